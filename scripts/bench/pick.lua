-- wrk: GET a path made from a prefix and a random line of a file (certificate ids, area codes).
-- Arguments: the file, the prefix (e.g. /api/v1/verify/ or /api/v1/coverage?campaign=X&area=)
-- and an optional suffix.
--
-- wrk shares the machine's two cores with the node, so the script does as little as it can per
-- request: the requests are formatted once, up front, and there is no response() callback (with
-- one, wrk hands every answer's headers and body to Lua; docs/performance.md, round 6). Answers
-- other than 2xx/3xx are counted by wrk itself ("Non-2xx or 3xx responses"), which
-- bench-http.sh reports.
function init(args)
  requests = {}
  local prefix, suffix = args[2], args[3] or ""
  for line in io.lines(args[1]) do
    table.insert(requests, wrk.format("GET", prefix .. line .. suffix))
  end
  count = #requests
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

function request()
  return requests[math.random(count)]
end
