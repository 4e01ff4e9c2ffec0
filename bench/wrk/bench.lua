-- One wrk script for every scenario, driven by a spec file the harness writes:
--   wrk ... -s bench.lua URL -- SPEC_FILE
-- Spec lines are "key=value":
--   method, path, body_file      the request (the body may hold {{ITEM}} and {{N}})
--   header=Name: value           a fixed header (repeatable)
--   pool_file                    one item per line: tokens, emails or refresh tokens
--   pool_use=auth:<prefix>       put the item in Authorization as "<prefix><item>"
--   pool_use=body                put the item in the body at {{ITEM}}
--   rotate=<lua pattern>         single-use items (refresh tokens): take one from the pool
--                                per request, put back the one the response carries
--   expect=<lua pattern>         a 2xx response is a success only if its body matches this
--   unique=<prefix>              {{N}} becomes <prefix><counter> (fresh emails)
-- wrk counts non-2xx and socket errors itself; done() prints the failed bodies count as
-- "BENCH_BAD <n>" (2xx without the expected text) and one sample of such a body.

local spec = { headers = {} }
local pool = {}
local head = 1
local tail = 0
local counter = 0
bad = 0
sample = ""
local threads = {}

local function read_file(path)
   local f = assert(io.open(path, "rb"))
   local data = f:read("*a")
   f:close()
   return data
end

local function load_spec(path)
   for line in io.lines(path) do
      local key, value = line:match("^([%w_]+)=(.*)$")
      if key == "header" then
         local name, v = value:match("^([^:]+):%s*(.*)$")
         spec.headers[name] = v
      elseif key then
         spec[key] = value
      end
   end
   spec.body = spec.body_file and read_file(spec.body_file) or nil
   if spec.pool_file then
      for line in io.lines(spec.pool_file) do
         if #line > 0 then
            tail = tail + 1
            pool[tail] = line
         end
      end
   end
end

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   load_spec(args[1])
   math.randomseed(os.time())
end

local function next_item()
   if tail < head then
      return nil
   end
   local item = pool[head]
   if spec.rotate then
      pool[head] = nil
      head = head + 1
   else
      head = head + 1
      if head > tail then
         head = 1
      end
   end
   return item
end

function request()
   local headers = {}
   for k, v in pairs(spec.headers) do
      headers[k] = v
   end
   local body = spec.body
   local item = nil
   if spec.pool_file then
      item = next_item() or "pool-exhausted"
   end
   if item and spec.pool_use and spec.pool_use:sub(1, 5) == "auth:" then
      headers["Authorization"] = spec.pool_use:sub(6) .. item
   end
   if body then
      if item and spec.pool_use == "body" then
         -- A function as the replacement: items may hold "%" (form-encoded emails).
         body = body:gsub("{{ITEM}}", function() return item end)
      end
      if spec.unique then
         counter = counter + 1
         local n = spec.unique .. counter
         body = body:gsub("{{N}}", function() return n end)
      end
   end
   return wrk.format(spec.method or "GET", spec.path, headers, body)
end

function response(status, headers, body)
   local ok = status >= 200 and status < 300
   if ok and spec.expect and not body:find(spec.expect) then
      ok = false
   end
   if spec.rotate then
      local fresh = body and body:match(spec.rotate)
      if fresh then
         tail = tail + 1
         pool[tail] = fresh
      end
   end
   if status >= 200 and status < 300 and not ok then
      bad = bad + 1
      if sample == "" then
         sample = body:sub(1, 300):gsub("\n", " ")
      end
   end
end

function done(summary, latency, requests)
   local total_bad = 0
   local first = ""
   for _, t in ipairs(threads) do
      total_bad = total_bad + (t:get("bad") or 0)
      local s = t:get("sample") or ""
      if first == "" then
         first = s
      end
   end
   io.write(string.format("BENCH_BAD %d\n", total_bad))
   if first ~= "" then
      io.write("BENCH_SAMPLE " .. first .. "\n")
   end
end
