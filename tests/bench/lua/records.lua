-- wrk script: requests read from a file written by tests/bench (see wrk.py for the format).
--
--   wrk ... -s records.lua -- FILE MODE THREADS
--
-- FILE: line 1 the method; then "Name: value" header lines; a blank line; then one record per
-- line, "PATH<TAB>COOKIE<TAB>BODY" (COOKIE "-" for none, BODY empty for none).
-- MODE "cycle" repeats the records; "once" gives each record to one request only (refresh
-- tokens are single-use), so the file must hold more records than the run will send: when it
-- runs out the last record is sent again, the server refuses it and wrk counts a non-2xx reply.
-- Each wrk thread takes every THREADS-th record, so no two threads share one.

local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local built = {}
local index = 0
local mode = "cycle"

function init(args)
  local file = assert(io.open(args[1], "r"))
  mode = args[2] or "cycle"
  local threads = tonumber(args[3] or "1")
  local me = tid or 0
  local method = file:read("*l")
  local headers = {}
  for line in file:lines() do
    if line == "" then break end
    local name, value = line:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  local n = 0
  for line in file:lines() do
    if n % threads == me then
      local path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      local h = {}
      for k, v in pairs(headers) do h[k] = v end
      if cookie ~= "-" then h["Cookie"] = cookie end
      if body == "" then body = nil end
      built[#built + 1] = wrk.format(method, path, h, body)
    end
    n = n + 1
  end
  file:close()
  assert(#built > 0, "no records for this thread in " .. args[1])
end

function request()
  index = index + 1
  if index > #built then
    if mode == "once" then
      index = #built
    else
      index = 1
    end
  end
  return built[index]
end
