-- wrk: GET a path made from a prefix and a random line of a file (certificate ids, area codes).
-- Arguments: the file, the prefix (e.g. /api/v1/verify/ or /api/v1/coverage?campaign=X&area=)
-- and an optional suffix. A statuses other than 200 are counted and printed at the end.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  lines, bad = {}, 0
  for line in io.lines(args[1]) do
    table.insert(lines, line)
  end
  prefix, suffix = args[2], args[3] or ""
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

function request()
  return wrk.format("GET", prefix .. lines[math.random(#lines)] .. suffix)
end

function response(status)
  if status ~= 200 then bad = bad + 1 end
end

function done()
  local b = 0
  for _, t in ipairs(threads) do b = b + t:get("bad") end
  io.write(string.format("not200=%d\n", b))
end
