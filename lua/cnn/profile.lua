--- Where the time goes: `cnn.profile(f, ...)` runs `f(...)`, prints a table
-- of the time spent per kind of oneDNN primitive (convolution forward and
-- backward, pooling, eltwise, reorders, inner product, softmax, ...) and
-- the rest ("Lua and other": the wall time outside primitives), with counts
-- of primitive executions, reorders, tensor allocations and primitives
-- created, and returns what `f` returned.
--
-- The C core times primitive executions only while a profile runs, so the
-- normal path reads no clock. With the environment variable
-- `CNNLUA_PROFILE=1`, the whole program is profiled and the table printed
-- to stderr at its end.
-- @module cnn.profile

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"

local profile = {}

local COUNTERS = {"primitive_executions", "reorders", "tensor_allocations",
                  "tensor_bytes_allocated", "system_allocations", "system_bytes_allocated",
                  "primitives_created"}

-- The report of what happened between two core.stats() snapshots.
local function report_between(before, after, wall)
  local report = {wall = wall, rows = {}}
  for _, k in ipairs(COUNTERS) do report[k] = after[k] - before[k] end
  local kernels = 0
  for i, row in ipairs(after.kinds) do
    local n = row.executions - before.kinds[i].executions
    if n > 0 then
      local seconds = row.seconds - before.kinds[i].seconds
      kernels = kernels + seconds
      report.rows[#report.rows + 1] = {name = row.name, seconds = seconds, executions = n}
    end
  end
  report.rows[#report.rows + 1] = {name = "Lua and other", seconds = math.max(wall - kernels, 0)}
  return report
end

-- profile_report as the function the user calls, `fname`.
local function report_of(fname, f, ...)
  if not argcheck.is_callable(f) then argcheck.raise(fname .. ": f must be a function") end
  -- profiling is put back however this ends, Ctrl-C included
  local _ <close> = core.closer(core.profiling, core.profiling())
  core.profiling(true)
  local before = core.stats()
  local start = core.monotime()
  local results = table.pack(pcall(f, ...))
  local wall = core.monotime() - start
  local after = core.stats()
  if not results[1] then error(results[2], 0) end
  return report_between(before, after, wall), table.pack(table.unpack(results, 2, results.n))
end

--- Runs `f(...)` with profiling on; returns a report and f's results
-- packed (`{n = ..., ...}`). The report has `wall` (seconds), `rows`
-- (`{name, seconds, executions}` for every kind of primitive that ran,
-- in a fixed order, then "Lua and other"), and the counters
-- `primitive_executions`, `reorders`, `tensor_allocations`,
-- `tensor_bytes_allocated`, `system_allocations` and
-- `system_bytes_allocated` (the tensors' memory blocks of 64 KiB or more
-- that came from the system, not from the cache of freed blocks), `primitives_created` (differences over the
-- run). An error in `f` is raised after profiling is restored.
-- @param f a function
-- @param ... its arguments
-- @treturn table the report
-- @treturn table f's results, packed
-- @usage local report = cnn.profile_report(function() return model(x) end)
-- @function profile_report
function profile.profile_report(f, ...)
  return report_of("profile_report", f, ...)
end

local COUNTER_SET = {}
for _, k in ipairs(COUNTERS) do COUNTER_SET[k] = true end

-- Whether report has the fields profile_text reads, of their types.
local function is_report(report)
  if type(report) ~= "table" or not argcheck.is_number(report.wall) then return false end
  for k in pairs(COUNTER_SET) do
    if math.type(report[k]) ~= "integer" then return false end
  end
  if not argcheck.is_list(report.rows) then return false end
  for _, row in ipairs(report.rows) do
    if type(row) ~= "table" or type(row.name) ~= "string" or not argcheck.is_number(row.seconds)
       or (row.executions ~= nil and math.type(row.executions) ~= "integer") then
      return false
    end
  end
  return true
end

local function megabytes(bytes)
  return ("%.1f MB"):format(bytes / 1e6)
end

--- The report as text: one line per row with milliseconds, share of the
-- wall time and executions, then the counters.
-- @function profile_text
-- @tparam table report as profile_report returns it
-- @treturn string
-- @usage print(cnn.profile_text(cnn.profile_report(model, x)))
function profile.profile_text(report)
  if not is_report(report) then
    argcheck.fail("profile_text", "report", "a report as cnn.profile_report returns it", report)
  end
  local lines = {("%-32s %10s %7s %11s"):format("profile", "ms", "share", "executions")}
  for _, row in ipairs(report.rows) do
    local share = report.wall > 0 and 100 * row.seconds / report.wall or 0
    lines[#lines + 1] = ("%-32s %10.3f %6.1f%% %11s"):format(row.name, row.seconds * 1e3, share,
                                                            row.executions or "")
  end
  lines[#lines + 1] = ("%-32s %10.3f %6.1f%%"):format("wall", report.wall * 1e3, 100)
  lines[#lines + 1] = ("primitive executions %d, reorders %d, tensor allocations %d (%s), "
                        .. "memory from the system %d (%s), primitives created %d")
    :format(report.primitive_executions, report.reorders, report.tensor_allocations,
            megabytes(report.tensor_bytes_allocated), report.system_allocations,
            megabytes(report.system_bytes_allocated), report.primitives_created)
  return table.concat(lines, "\n")
end

--- Runs `f(...)`, prints the profile table and returns f's results.
-- @usage
-- local gs = cnn.profile(function() return cnn.gradient(loss, ps) end)
-- @function profile
-- @param f a function
-- @param ... its arguments
-- @return the results of f
function profile.profile(f, ...)
  local report, results = report_of("profile", f, ...)
  print(profile.profile_text(report))
  return table.unpack(results, 1, results.n)
end

-- The whole program, until Lua closes its state (whose finalizers run
-- this one before the libraries are unloaded).
if os.getenv("CNNLUA_PROFILE") == "1" and not core.profiling(true) then
  local before, start = core.stats(), core.monotime()
  local at_exit = setmetatable({}, {__gc = function()
    local report = report_between(before, core.stats(), core.monotime() - start)
    io.stderr:write(profile.profile_text(report), "\n")
  end})
  -- kept alive by the module table of this part
  package.loaded["cnn.profile.at_exit"] = at_exit
end

return profile
