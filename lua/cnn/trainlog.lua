--- cnn.train's `log` option: each step's figures appended to a file, as
-- CSV or JSON lines, chosen by the file's extension.
--
-- A CSV file has one row per figure, `step,pass,time,name,value`
-- (`3,1,0.042,loss,2.2871`), so that values a callback returns only now
-- and then (a test accuracy per pass) and runs with other callbacks
-- append to the same columns; the header is written when the file is
-- empty. A JSON-lines file has one object per step with every figure of
-- that step: `{"step":3,"pass":1,"time":0.042,"loss":2.2871}`. A NaN or
-- infinite callback value is written `nan`/`inf` in CSV and `null` in JSON.
-- @module cnn.trainlog

local argcheck = require "cnn.argcheck"

local trainlog = {}
trainlog.__index = trainlog

local function number_text(v)
  if math.type(v) == "integer" then return ("%d"):format(v) end
  return ("%.17g"):format(v)
end

local function is_finite(v)
  return v == v and v ~= math.huge and v ~= -math.huge
end

local function csv_number(v)
  if v ~= v then return "nan" end
  if v == math.huge then return "inf" end
  if v == -math.huge then return "-inf" end
  return number_text(v)
end

-- A CSV field: quoted (quotes doubled) when it holds a comma, a quote or
-- a line break.
local function csv_field(s)
  if not s:find('[,"\r\n]') then return s end
  return '"' .. s:gsub('"', '""') .. '"'
end

-- A JSON string: quotes, backslashes and control characters escaped.
local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ("\\u%04x"):format(c:byte())
  end) .. '"'
end

--- Opens `path` for appending ("train" names the caller in errors), or
-- returns nil when path is nil.
function trainlog.open(fname, path)
  if path == nil then return nil end
  argcheck.string(fname, "log", path)
  local format = path:match("%.(%w+)$")
  format = format and format:lower()
  if format ~= "csv" and format ~= "jsonl" then
    argcheck.fail(fname, "log", 'a file name ending in ".csv" or ".jsonl"', path)
  end
  local file, err = io.open(path, "a")
  if not file then argcheck.raise(("%s: cannot open the log %s"):format(fname, err)) end
  local self = setmetatable({file = file, format = format}, trainlog)
  if format == "csv" and file:seek("end") == 0 then
    file:write("step,pass,time,name,value\n")
  end
  return self
end

--- Appends one step: `figures` is a list of {name, value}, loss first.
function trainlog:write(step, pass, time, figures)
  local file = self.file
  if self.format == "csv" then
    local head = ("%d,%d,%.6f,"):format(step, pass, time)
    for _, f in ipairs(figures) do
      local v = f[2]
      file:write(head, csv_field(f[1]), ",", csv_number(v), "\n")
    end
  else
    local parts = {('"step":%d,"pass":%d,"time":%.6f'):format(step, pass, time)}
    for _, f in ipairs(figures) do
      parts[#parts + 1] = json_string(f[1]) .. ":" .. (is_finite(f[2]) and number_text(f[2]) or "null")
    end
    file:write("{", table.concat(parts, ","), "}\n")
  end
  file:flush()
end

function trainlog:close()
  if self.file then self.file:close() end
  self.file = nil
end

return trainlog
