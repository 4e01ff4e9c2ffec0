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
--   fanout=<n>                   with rotate: each item is presented n times in a row (on the
--                                next n free connections, as n browser tabs); the successor goes
--                                back (n times) only once n answers carried it, so it is never
--                                presented while a presentation of its parent is in flight
--   group=<lua pattern>          with fanout: the part of a successor naming its rotation
--                                (session and generation); two different successors of one
--                                rotation are counted as forks
--   single_use=1                 each pool item is sent once and never put back (authorization
--                                codes); requests past the last item count as exhausted
--   lost=<text>[,<text>...]      a body holding one of these is a lost session (counted apart)
--   expect=<lua pattern>         a 2xx response is a success only if its body matches this
--   unique=<prefix>              {{N}} becomes <prefix><counter> (fresh emails)
-- wrk counts non-2xx and socket errors itself; done() prints the failed bodies count as
-- "BENCH_BAD <n>" (2xx without the expected text) and one sample of such a body, then
-- "BENCH_LOST <n>", "BENCH_FORKS <n>" (0 without lost= or group=) and "BENCH_EXHAUSTED <n>"
-- (requests sent with no item left in the pool).

local spec = { headers = {} }
local pool = {}
local head = 1
local tail = 0
local counter = 0
bad = 0
sample = ""
lost = 0
forks = 0
exhausted = 0
local fanout = 1
local lost_markers = {}
-- successor -> answers carrying it so far; rotation (group) -> its successor
local answers = {}
local successor_of = {}
local threads = {}

local function read_file(path)
   local f = assert(io.open(path, "rb"))
   local data = f:read("*a")
   f:close()
   return data
end

function push(item)
   for _ = 1, fanout do
      tail = tail + 1
      pool[tail] = item
   end
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
   fanout = tonumber(spec.fanout or "1")
   for marker in (spec.lost or ""):gmatch("[^,]+") do
      table.insert(lost_markers, marker)
   end
   if spec.pool_file then
      for line in io.lines(spec.pool_file) do
         if #line > 0 then
            push(line)
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
   if spec.rotate or spec.single_use then
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
      item = next_item()
      if not item then
         exhausted = exhausted + 1
         item = "pool-exhausted"
      end
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

function collect(fresh)
   if spec.group then
      local rotation = fresh:match(spec.group)
      if rotation then
         local known = successor_of[rotation]
         if known == nil then
            successor_of[rotation] = fresh
         elseif known ~= fresh then
            forks = forks + 1
         end
      end
   end
   local seen = (answers[fresh] or 0) + 1
   if seen >= fanout then
      answers[fresh] = nil
      push(fresh)
   else
      answers[fresh] = seen
   end
end

function response(status, headers, body)
   local ok = status >= 200 and status < 300
   if ok and spec.expect and not body:find(spec.expect) then
      ok = false
   end
   if spec.rotate then
      local fresh = body and body:match(spec.rotate)
      if fresh and fanout == 1 then
         push(fresh)
      elseif fresh then
         collect(fresh)
      end
   end
   for _, marker in ipairs(lost_markers) do
      if body and body:find(marker, 1, true) then
         lost = lost + 1
         break
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
   local totals = { lost = 0, forks = 0, exhausted = 0 }
   local first = ""
   for _, t in ipairs(threads) do
      total_bad = total_bad + (t:get("bad") or 0)
      for key in pairs(totals) do
         totals[key] = totals[key] + (t:get(key) or 0)
      end
      local s = t:get("sample") or ""
      if first == "" then
         first = s
      end
   end
   io.write(string.format("BENCH_BAD %d\n", total_bad))
   io.write(string.format("BENCH_LOST %d\n", totals.lost))
   io.write(string.format("BENCH_FORKS %d\n", totals.forks))
   io.write(string.format("BENCH_EXHAUSTED %d\n", totals.exhausted))
   if first ~= "" then
      io.write("BENCH_SAMPLE " .. first .. "\n")
   end
end
