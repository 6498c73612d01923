-- wrk: each request is one signing by a different signed-in employee.
-- Arguments: the signers file of `ikrar bench-signers` (token<TAB>JSON body a line), the campaign
-- id and wrk's thread count. Lines are dealt out to the threads so no two sign the same employee.
local threads, next_id = {}, 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local path, campaign, nthreads = args[1], args[2], tonumber(args[3])
  signers, sent, created, refused = {}, 0, 0, 0
  local i = 0
  for line in io.lines(path) do
    if i % nthreads == id - 1 then
      local tab = line:find("\t", 1, true)
      table.insert(signers, { line:sub(1, tab - 1), line:sub(tab + 1) })
    end
    i = i + 1
  end
  target = "/api/v1/campaigns/" .. campaign .. "/signatures"
end

function request()
  sent = sent + 1
  -- Past the end of the file an employee signs again (answered 200 with the same certificate);
  -- those are counted apart, so size the file for the run.
  local s = signers[(sent - 1) % #signers + 1]
  return wrk.format("POST", target, {
    ["Authorization"] = "Bearer " .. s[1],
    ["Content-Type"] = "application/json",
  }, s[2])
end

function response(status)
  if status == 201 then created = created + 1 else refused = refused + 1 end
end

function done()
  local c, r = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    r = r + t:get("refused")
  end
  io.write(string.format("created=%d other=%d\n", c, r))
end
