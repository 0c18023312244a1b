--- Training progress: a one-line bar redrawn with \r on a terminal, or
-- one summary line per pass over the data when the output is a file or a
-- pipe (so logs stay short).
-- @module cnn.progress

local progress = {}
progress.__index = progress

--- How often the bar is redrawn at most, in seconds.
local REDRAW_SECONDS = 0.1
--- Weight of the past in the running (exponential) loss average.
local SMOOTHING = 0.98
local BAR_WIDTH = 20

--- Formats a byte count as Julia's @time does: "96 bytes", "45.678 MiB".
function progress.format_bytes(bytes)
  local units = { "KiB", "MiB", "GiB", "TiB" }
  if bytes < 1024 then
    return ("%d byte%s"):format(bytes, bytes == 1 and "" or "s")
  end
  local value, unit = bytes / 1024, 1
  while value >= 1024 and unit < #units do
    value, unit = value / 1024, unit + 1
  end
  return ("%.3f %s"):format(value, units[unit])
end

--- The line @time prints, e.g. "  1.234567 seconds (123 allocations: 45.678 MiB)".
function progress.format_time(seconds, allocations, bytes)
  local line = ("%10.6f seconds"):format(seconds)
  if allocations > 0 then
    line = line .. (" (%d allocation%s: %s)"):format(allocations,
      allocations == 1 and "" or "s", progress.format_bytes(bytes))
  end
  return line
end

--- "1:05" or "1:02:03".
function progress.format_duration(seconds)
  if seconds ~= seconds or seconds == math.huge then return "?" end
  seconds = math.floor(seconds + 0.5)
  local h, m, s = seconds // 3600, seconds // 60 % 60, seconds % 60
  if h > 0 then return ("%d:%02d:%02d"):format(h, m, s) end
  return ("%d:%02d"):format(m, s)
end

local function format_rate(images, seconds)
  if seconds <= 0 or images == 0 then return "? img/s" end
  return ("%.0f img/s"):format(images / seconds)
end

--- A new progress display.
-- @tparam table o fields: mode ("bar", "lines" or "none"), out (a file,
--   io.stdout by default), clock (a function returning seconds), total
--   (batches in the whole call, or nil), pass_length (batches per pass,
--   or nil when unknown), width (terminal columns, 80 by default)
function progress.new(o)
  local self = setmetatable({}, progress)
  self.mode = o.mode or "lines"
  self.out = o.out or io.stdout
  self.clock = o.clock or os.clock
  self.total = o.total
  self.pass_length = o.pass_length or o.total
  self.width = o.width or 80
  self.start = self.clock()
  self.last_draw = -math.huge
  self.step_count, self.images = 0, 0
  self.average, self.weight = 0, 0
  self.pass = 1
  self:begin_pass()
  return self
end

function progress:begin_pass()
  self.pass_start = self.clock()
  self.pass_steps, self.pass_images, self.pass_loss = 0, 0, 0
  self.drawn = false
end

--- The loss averaged exponentially over recent batches, bias-corrected so
-- early values are not pulled towards zero.
function progress:running_loss()
  if self.weight == 0 then return 0 / 0 end
  return self.average / self.weight
end

--- Records one finished batch of `images` images with loss `loss`.
function progress:step(images, loss)
  self.step_count = self.step_count + 1
  self.images = self.images + images
  self.pass_steps = self.pass_steps + 1
  self.pass_images = self.pass_images + images
  self.pass_loss = self.pass_loss + loss
  self.average = SMOOTHING * self.average + (1 - SMOOTHING) * loss
  self.weight = SMOOTHING * self.weight + (1 - SMOOTHING)
  local pass_done = self.pass_length and self.pass_steps >= self.pass_length
  if self.mode == "bar" then
    local now = self.clock()
    if pass_done or now - self.last_draw >= REDRAW_SECONDS then
      self.last_draw = now
      self:draw_bar(now)
    end
  end
  if pass_done then self:end_pass() end
end

function progress:passes()
  if self.total and self.pass_length and self.pass_length > 0 then
    return math.ceil(self.total / self.pass_length)
  end
end

function progress:bar_line(now)
  local parts = {}
  local passes = self:passes()
  if passes and passes > 1 then
    parts[#parts + 1] = ("pass %d/%d"):format(self.pass, passes)
  end
  local k, n = self.pass_steps, self.pass_length
  if n then
    local filled = math.floor(BAR_WIDTH * k / n)
    parts[#parts + 1] = ("%d/%d [%s%s]"):format(k, n,
      ("█"):rep(filled), ("·"):rep(BAR_WIDTH - filled))
  else
    parts[#parts + 1] = ("batch %d"):format(k)
  end
  parts[#parts + 1] = ("loss %.4f"):format(self:running_loss())
  parts[#parts + 1] = format_rate(self.images, now - self.start)
  local elapsed = now - self.start
  local timing = progress.format_duration(elapsed)
  if self.total and self.step_count > 0 then
    local left = elapsed / self.step_count * (self.total - self.step_count)
    timing = timing .. " < " .. progress.format_duration(left)
  end
  parts[#parts + 1] = timing
  return table.concat(parts, "  ")
end

--- Characters on the terminal, counting a UTF-8 sequence as one.
local function display_width(s)
  return utf8.len(s) or #s
end

function progress:draw_bar(now)
  local line = self:bar_line(now)
  local pad = math.max(0, (self.last_width or 0) - display_width(line))
  self.last_width = display_width(line)
  if self.last_width > self.width - 1 then
    line = line:sub(1, utf8.offset(line, self.width) - 1)
  end
  self.out:write("\r", line, (" "):rep(pad))
  self.out:flush()
  self.drawn = true
end

--- Erases the bar (if shown) so the next output starts a clean line;
-- the next step draws it again.
function progress:clear()
  if self.mode ~= "bar" or not self.drawn then return end
  self.out:write("\r", (" "):rep(self.last_width or 0), "\r")
  self.out:flush()
  self.drawn, self.last_width, self.last_draw = false, 0, -math.huge
end

--- Resident memory of this process in MiB (nil where /proc is missing),
-- so a pass's line shows whether training holds its memory steady.
function progress.resident_mib()
  local f = io.open("/proc/self/status")
  if not f then return nil end
  local kb = f:read("a"):match("VmRSS:%s*(%d+) kB")
  f:close()
  return kb and tonumber(kb) / 1024
end

function progress:summary_line(now)
  local seconds = now - self.pass_start
  -- "pass 3/9" when the number of passes is known, so that the passes of a
  -- second train call do not read as a restart
  local passes = self:passes()
  local pass = passes and ("%d/%d"):format(self.pass, passes) or tostring(self.pass)
  local line = ("pass %s: %d batch%s, mean loss %.4f, %s, %.1f s"):format(pass,
    self.pass_steps, self.pass_steps == 1 and "" or "es", self.pass_loss / self.pass_steps,
    format_rate(self.pass_images, seconds), seconds)
  local rss = progress.resident_mib()
  return rss and ("%s, RSS %.0f MiB"):format(line, rss) or line
end

function progress:end_pass()
  if self.pass_steps == 0 then return end
  if self.mode == "bar" and self.drawn then
    self.out:write("\n")
    self.last_width = 0
  elseif self.mode == "lines" then
    self.out:write(self:summary_line(self.clock()), "\n")
  end
  self.out:flush()
  self.pass = self.pass + 1
  self:begin_pass()
end

--- Ends the display: completes an unfinished pass (the data's length was
-- unknown, or training stopped early) so the next output starts a line.
function progress:finish()
  if self.mode == "bar" and self.pass_steps > 0 then
    self:draw_bar(self.clock())
  end
  self:end_pass()
end

return progress
