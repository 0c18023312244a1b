--- Line plots in the terminal, drawn with Unicode braille characters (2×4
-- dots a character) as Julia's UnicodePlots: cnn.plot and cnn.plotstring.
-- Each series gets a panel of its own, with its own y-axis and its name
-- above it (a loss and an accuracy have different scales); the panels
-- share the x-axis at the bottom.
-- @module cnn.plot

local argcheck = require "cnn.argcheck"
local series = require "cnn.series"

local OPTIONS = {width = true, height = true, title = true, xlabel = true, ylabel = true, steps = true}

local function check_options(fname, opts)
  local o = {}
  if opts.width ~= nil then argcheck.integer(fname, "width", opts.width, 20) end
  if opts.height ~= nil then argcheck.integer(fname, "height", opts.height, 6) end
  o.width, o.height = opts.width or 80, opts.height or 24
  for _, k in ipairs({"title", "xlabel", "ylabel"}) do
    if opts[k] ~= nil then o[k] = argcheck.string(fname, k, opts[k]) end
  end
  return o
end

-- The braille dot of pixel (px, py) of a cell, px in 0..1, py in 0..3.
local DOTS = {[0] = {[0] = 0x01, 0x02, 0x04, 0x40}, {[0] = 0x08, 0x10, 0x20, 0x80}}

-- A canvas of cols×rows characters, 2cols×4rows pixels.
local function canvas(cols, rows)
  local bits = {}
  for i = 1, cols * rows do bits[i] = 0 end
  return {cols = cols, rows = rows, bits = bits}
end

local function set(c, px, py)
  if px < 0 or py < 0 or px >= 2 * c.cols or py >= 4 * c.rows then return end
  local i = (py // 4) * c.cols + px // 2 + 1
  c.bits[i] = c.bits[i] | DOTS[px % 2][py % 4]
end

-- A straight line of pixels from (x0, y0) to (x1, y1) (Bresenham).
local function line(c, x0, y0, x1, y1)
  local dx, dy = math.abs(x1 - x0), -math.abs(y1 - y0)
  local sx, sy = x0 < x1 and 1 or -1, y0 < y1 and 1 or -1
  local err = dx + dy
  while true do
    set(c, x0, y0)
    if x0 == x1 and y0 == y1 then return end
    local e2 = 2 * err
    if e2 >= dy then err, x0 = err + dy, x0 + sx end
    if e2 <= dx then err, y0 = err + dx, y0 + sy end
  end
end

local function row_text(c, r)
  local chars = {}
  for col = 1, c.cols do
    local b = c.bits[r * c.cols + col]
    chars[col] = b == 0 and " " or utf8.char(0x2800 + b)
  end
  return table.concat(chars)
end

local function round(v) return math.floor(v + 0.5) end

-- Draws the finite points of s, joined by lines; a NaN or inf breaks it.
local function draw(c, s, xmin, xmax, ymin, ymax)
  local w, h = 2 * c.cols - 1, 4 * c.rows - 1
  local last
  for i = 1, #s.y do
    local y = s.y[i]
    if series.is_finite(y) then
      local px = round((s.x[i] - xmin) / (xmax - xmin) * w)
      local py = round((ymax - y) / (ymax - ymin) * h)
      if last then line(c, last[1], last[2], px, py) else set(c, px, py) end
      last = {px, py}
    else
      last = nil
    end
  end
end

local function centred(text, width)
  local n = utf8.len(text)
  if n >= width then return text end
  return (" "):rep((width - n) // 2) .. text
end

-- The y tick labels of a panel of `rows` rows: {row (0-based) = text}.
local function y_ticks(rows, ymin, ymax)
  local h = 4 * rows - 1
  local mid = (rows - 1) // 2
  local ticks = {[0] = series.tick_text(ymax), [rows - 1] = series.tick_text(ymin)}
  if mid > 0 and mid < rows - 1 then
    ticks[mid] = series.tick_text(ymax - (4 * mid + 1.5) / h * (ymax - ymin))
  end
  return ticks
end

-- The axis line and the label line under the canvas.
local function x_axis(cols, margin, xmin, xmax, integral)
  local w = 2 * cols - 1
  local function value_at(col)
    if col == 0 then return xmin end
    if col == cols - 1 then return xmax end
    local v = xmin + (2 * col + 0.5) / w * (xmax - xmin)
    return integral and round(v) or v
  end
  -- the middle tick: a whole number on integral x, at its own column
  local mid, v = (cols - 1) // 2, value_at((cols - 1) // 2)
  if integral then mid = round((v - xmin) / (xmax - xmin) * w) // 2 end
  local first, last = series.tick_text(value_at(0)), series.tick_text(value_at(cols - 1))
  local middle = series.tick_text(v)
  if v <= xmin or v >= xmax then middle = "" end
  local labels = {}
  for i = 1, cols do labels[i] = " " end
  local function put(text, at)
    for k = 1, #text do labels[at + k] = text:sub(k, k) end
  end
  put(first, 0)
  put(last, cols - #last)
  local m = mid - #middle // 2
  local ticked = {[0] = true, [cols - 1] = true}
  if middle ~= "" and m > #first and m + #middle < cols - #last then
    put(middle, m)
    ticked[mid] = true
  end
  local axis = {}
  for col = 0, cols - 1 do axis[col + 1] = ticked[col] and "┬" or "─" end
  return (" "):rep(margin) .. "└" .. table.concat(axis),
         (" "):rep(margin + 1) .. table.concat(labels):gsub("%s+$", "")
end

--- The text of a plot: the lines of the panels, the axis and the labels.
local function render(fname, list, o)
  local fixed = 2 + (o.title and 1 or 0) + (o.ylabel and 1 or 0) + (o.xlabel and 1 or 0)
  local per_panel = (o.height - fixed) // #list
  local rows = per_panel - 1
  if rows < 2 then
    argcheck.raise(("%s: %d series do not fit in %d lines (each needs 3 lines, the axes %d); "
      .. "give a larger height or fewer series"):format(fname, #list, o.height, fixed))
  end
  local xmin, xmax = series.ranges(list)
  if not xmin then xmin, xmax = 0, 1 end
  local integral = true
  for _, s in ipairs(list) do
    for i = 1, #s.x do
      if s.x[i] ~= math.floor(s.x[i]) then integral = false end
    end
  end
  -- the y ticks of every panel first: their widest label sets the margin
  local panels, margin = {}, 1
  for i, s in ipairs(list) do
    local _, _, ymin, ymax = series.ranges({s})
    if not ymin then ymin, ymax = 0, 1 end
    local ticks = y_ticks(rows, ymin, ymax)
    for _, t in pairs(ticks) do margin = math.max(margin, #t) end
    panels[i] = {s = s, ymin = ymin, ymax = ymax, ticks = ticks}
  end
  margin = margin + 1
  local cols = o.width - margin - 1
  if cols < 10 then
    argcheck.raise(("%s: width %d leaves %d columns for the plot beside its labels; give a larger width")
      :format(fname, o.width, cols))
  end
  local out = {}
  if o.title then out[#out + 1] = centred(o.title, o.width) end
  if o.ylabel then out[#out + 1] = o.ylabel end
  for _, p in ipairs(panels) do
    local c = canvas(cols, rows)
    draw(c, p.s, xmin, xmax, p.ymin, p.ymax)
    out[#out + 1] = (" "):rep(margin + 1) .. series.legend(p.s)
    for r = 0, rows - 1 do
      local tick = p.ticks[r]
      local left = tick and (" "):rep(margin - 1 - #tick) .. tick .. " ┤" or (" "):rep(margin) .. "│"
      out[#out + 1] = (left .. row_text(c, r)):gsub("%s+$", "")
    end
  end
  local axis, labels = x_axis(cols, margin, xmin, xmax, integral)
  out[#out + 1] = axis
  out[#out + 1] = labels
  if o.xlabel then out[#out + 1] = (" "):rep(margin + 1) .. centred(o.xlabel, cols) end
  return table.concat(out, "\n") .. "\n"
end

--- The text cnn.plot prints: line plots of the series in braille
-- characters, by default within 80 columns and 24 lines.
-- @function plotstring
-- @param ... series (a History, a 1-D tensor, an array of numbers, a
--   schedule, or a table of those by name), then optionally a table of
--   options: width (80), height (24), title, xlabel, ylabel, steps (100:
--   how many steps of a schedule are drawn)
-- @treturn string the lines of the plot, each ending in a newline
-- @usage local text = cnn.plotstring({3, 1, 2}, {height = 10})
local function plotstring(...)
  local list, opts = series.parse("plotstring", OPTIONS, ...)
  return render("plotstring", list, check_options("plotstring", opts))
end

--- Prints line plots of the series in the terminal, in Unicode braille
-- characters as Julia's UnicodePlots: a History gives its loss and
-- every series its callbacks recorded, against the steps; each series is
-- drawn in a panel of its own with its y-axis and its name (and the
-- number of NaN and inf points it skipped); the panels share the x-axis.
-- By default the plot fits an 80×24 terminal.
-- @function plot
-- @param ... series (a History, a 1-D tensor, an array of numbers, a
--   schedule, or a table of those by name), then optionally a table of
--   options: width (80), height (24), title, xlabel, ylabel, steps (100:
--   how many steps of a schedule are drawn)
-- @usage local _, _, h = cnn.train(loss, ps, loader, opt)
-- cnn.plot(h, {title = "training"})
-- cnn.plot{loss = h.loss, accuracy = h.accuracy}
-- cnn.plot(cnn.rand(100), {height = 12})
-- cnn.plot(cnn.Cos(1e-3, 1e-5, 50), {steps = 200})
local function plot(...)
  local list, opts = series.parse("plot", OPTIONS, ...)
  io.stdout:write(render("plot", list, check_options("plot", opts)))
end

return {
  plot = plot,
  plotstring = plotstring,
}
