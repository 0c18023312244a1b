--- Pictures of line plots, written as PNG or SVG through cairo:
-- cnn.savefig. The layout is the terminal plot's (cnn.plot): one panel
-- per series with its own y-axis and its name above it, the x-axis
-- shared at the bottom; here in colour, with round ticks and a grid.
-- @module cnn.figure

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"
local errors = require "cnn.errors"
local series = require "cnn.series"

local OPTIONS = {width = true, height = true, title = true, xlabel = true, ylabel = true, steps = true}
local FORMATS = {png = true, svg = true}

-- Colours of the series, in turn (matplotlib's first ones).
local PALETTE = {
  {0.12, 0.47, 0.71}, {1.00, 0.50, 0.05}, {0.17, 0.63, 0.17}, {0.84, 0.15, 0.16},
  {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.50, 0.50, 0.50},
}
local GRID, AXES = {0.88, 0.88, 0.88}, {0, 0, 0}
local FONT = 13

local function check_options(opts)
  local o = {}
  if opts.width ~= nil then argcheck.integer("savefig", "width", opts.width, 200, 16384) end
  if opts.height ~= nil then argcheck.integer("savefig", "height", opts.height, 150, 16384) end
  o.width, o.height = opts.width or 800, opts.height or 500
  for _, k in ipairs({"title", "xlabel", "ylabel"}) do
    if opts[k] ~= nil then o[k] = argcheck.string("savefig", k, opts[k]) end
  end
  return o
end

local function frame(items, x0, y0, x1, y1)
  items[#items + 1] = {"line", points = {x0, y0, x1, y0, x1, y1, x0, y1, x0, y0}, color = AXES, width = 1}
end

-- The finite points of s as polylines in pixels (a NaN or inf breaks it).
local function polylines(items, s, color, map)
  local points = {}
  local function flush()
    if #points == 2 then points[3], points[4] = points[1], points[2] end
    if #points >= 4 then items[#items + 1] = {"line", points = points, color = color, width = 2} end
    points = {}
  end
  for i = 1, #s.y do
    if series.is_finite(s.y[i]) then
      local px, py = map(s.x[i], s.y[i])
      points[#points + 1], points[#points + 2] = px, py
    else
      flush()
    end
  end
  flush()
end

--- The drawing commands of the picture (see src/bind/figure.c).
local function layout(list, o)
  local items = {}
  local left, right = 80, o.width - 20
  local top = 20 + (o.title and 30 or 0) + (o.ylabel and 20 or 0)
  local bottom = o.height - 45 - (o.xlabel and 22 or 0)
  local gap = 28 -- above each panel: its legend
  local panel_h = (bottom - top) / #list - gap
  if panel_h < 40 then
    argcheck.raise(("savefig: %d series do not fit in a picture %d pixels high; give a larger height")
      :format(#list, o.height))
  end
  if o.title then
    items[#items + 1] = {"text", x = o.width / 2, y = 32, text = o.title, size = 18, anchor = "center"}
  end
  if o.ylabel then items[#items + 1] = {"text", x = 12, y = top - 18, text = o.ylabel, size = FONT} end
  local xmin, xmax = series.ranges(list)
  if not xmin then xmin, xmax = 0, 1 end
  local xticks, xlabels = series.nice_ticks(xmin, xmax, 6)
  local function px(x) return left + (x - xmin) / (xmax - xmin) * (right - left) end
  for i, s in ipairs(list) do
    local color = PALETTE[(i - 1) % #PALETTE + 1]
    local y0 = top + (i - 1) * (panel_h + gap) + gap
    local y1 = y0 + panel_h
    local _, _, ymin, ymax = series.ranges({s})
    if not ymin then ymin, ymax = 0, 1 end
    local function py(y) return y1 - (y - ymin) / (ymax - ymin) * (y1 - y0) end
    -- grid and ticks
    local yticks, ylabels = series.nice_ticks(ymin, ymax, math.max(2, math.floor(panel_h / 40)))
    for k, v in ipairs(yticks) do
      local y = py(v)
      items[#items + 1] = {"line", points = {left, y, right, y}, color = GRID, width = 1}
      items[#items + 1] = {"line", points = {left - 5, y, left, y}, color = AXES, width = 1}
      items[#items + 1] = {"text", x = left - 8, y = y + 4, text = ylabels[k], size = FONT - 2, anchor = "right"}
    end
    for _, v in ipairs(xticks) do
      local x = px(v)
      items[#items + 1] = {"line", points = {x, y0, x, y1}, color = GRID, width = 1}
      items[#items + 1] = {"line", points = {x, y1, x, y1 + 5}, color = AXES, width = 1}
    end
    frame(items, left, y0, right, y1)
    polylines(items, s, color, function(x, y) return px(x), py(y) end)
    -- legend: a stroke of the series' colour and its name
    items[#items + 1] = {"line", points = {left, y0 - 10, left + 24, y0 - 10}, color = color, width = 3}
    items[#items + 1] = {"text", x = left + 30, y = y0 - 5, text = series.legend(s), size = FONT}
  end
  for k, v in ipairs(xticks) do
    items[#items + 1] = {"text", x = px(v), y = bottom + 20, text = xlabels[k], size = FONT - 2, anchor = "center"}
  end
  if o.xlabel then
    items[#items + 1] = {"text", x = (left + right) / 2, y = bottom + 42, text = o.xlabel, size = FONT,
      anchor = "center"}
  end
  return items
end

--- Writes line plots of the series to a picture file, PNG or SVG by the
-- file's extension, drawn with cairo: the series and options of cnn.plot
-- (a History gives its loss and the series its callbacks recorded), each
-- series in a panel of its own, in colour, with round ticks, a grid and
-- its name (and the number of NaN and inf points it skipped) above it.
-- @function savefig
-- @tparam string path a file name ending in ".png" or ".svg"
-- @param ... series (a History, a 1-D tensor, an array of numbers, a
--   schedule, or a table of those by name), then optionally a table of
--   options: width (800) and height (500) in pixels, title, xlabel,
--   ylabel, steps (100: how many steps of a schedule are drawn)
-- @usage local _, _, h = cnn.train(loss, ps, loader, opt)
-- cnn.savefig("curve.png", h, {title = "training", xlabel = "step"})
-- cnn.savefig("curve.svg", {loss = h.loss})
local function savefig(path, ...)
  argcheck.string("savefig", "path", path)
  local extension = path:match("%.(%w+)$")
  extension = extension and extension:lower()
  if not FORMATS[extension] then
    argcheck.fail("savefig", "path", 'a file name ending in ".png" or ".svg"', path)
  end
  local list, opts = series.parse("savefig", OPTIONS, ...)
  local o = check_options(opts)
  local items = layout(list, o)
  errors.call_renamed("savefig", "draw_figure", core.draw_figure, path, extension, o.width, o.height, items)
end

return {
  savefig = savefig,
}
