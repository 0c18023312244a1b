-- cnn.plot and cnn.plotstring: braille line plots in the terminal.
local cnn = require "cnn"

local function lines_of(s)
  local lines = {}
  for line in s:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  return lines
end

-- The columns (1-based characters) of a line holding braille characters,
-- and the number of dots they have.
local function braille(line)
  local cols, dots, col = {}, 0, 0
  for _, cp in utf8.codes(line) do
    col = col + 1
    if cp > 0x2800 and cp <= 0x28ff then
      cols[#cols + 1] = col
      local b = cp - 0x2800
      while b > 0 do dots, b = dots + (b & 1), b >> 1 end
    end
  end
  return cols, dots
end

local function widest(lines)
  local w = 0
  for _, l in ipairs(lines) do w = math.max(w, utf8.len(l)) end
  return w
end

local function hundred_points()
  local t = {}
  for i = 1, 100 do t[i] = 3 - i / 50 end
  return t
end

describe("plotstring", function()
  it("fits a 100-point series in 80×24 with labelled axes and a legend", function()
    local text = cnn.plotstring(hundred_points(), {xlabel = "step", ylabel = "loss", title = "training"})
    local lines = lines_of(text)
    assert.is_true(#lines <= 24, #lines .. " lines")
    assert.is_true(widest(lines) <= 80, widest(lines) .. " columns")
    assert.matches("^%s+training$", lines[1])
    assert.are.equal("loss", lines[2])
    assert.matches("^%s+y$", lines[3])
    -- y ticks: the maximum on the first canvas line, the minimum on the last
    assert.matches("^ *2%.98 ┤", lines[4])
    local axis
    for i, l in ipairs(lines) do if l:find("└", 1, true) then axis = i end end
    assert.matches("^ *1 ┤", lines[axis - 1])
    -- x ticks under the axis: first, middle and last step
    assert.matches("^%s+1%s+%d+%s+100$", lines[axis + 1])
    assert.matches("^%s+step$", lines[axis + 2])
    assert.are.equal(3, select(2, lines[axis]:gsub("┬", "")))
    -- a falling line: braille characters from the top left to the bottom right
    local start = utf8.len(lines[4]:match("^.-┤"))
    local top, bottom = braille(lines[4]), braille(lines[axis - 1])
    assert.are.equal(start + 1, top[1])
    assert.is_true(top[#top] < 20)
    assert.are.equal(utf8.len(lines[axis]), bottom[#bottom])
    assert.is_true(bottom[1] > 60)
  end)

  it("draws a straight line through the dots that lie on it", function()
    -- a rising line on a canvas 4 characters (16 dots) high and wider
    -- than that: one dot in each dot column
    local text = cnn.plotstring({0, 39}, {width = 24, height = 7})
    local lines = lines_of(text)
    assert.are.equal(7, #lines)
    local cols = utf8.len(lines[6]:match("└(.*)$"))
    local dots = 0
    for i = 2, 5 do dots = dots + select(2, braille(lines[i])) end
    assert.are.equal(2 * cols, dots)
    assert.is_true(cols >= 16)
  end)

  it("plots a History's loss and callback series in panels of their own", function()
    local h = cnn.History()
    for i = 1, 200 do h:record_loss(i, (i - 1) // 100 + 1, 2 / i) end
    h:record_callback("test", 100, {accuracy = 0.9})
    h:record_callback("test", 200, {accuracy = 0.95})
    local lines = lines_of(cnn.plotstring(h))
    assert.are.equal(24, #lines)
    assert.is_true(widest(lines) <= 80)
    assert.matches("^%s+loss$", lines[1])
    assert.matches("^ *2 ┤", lines[2])
    assert.matches("^ *0%.01 ┤", lines[11])
    assert.matches("^%s+accuracy$", lines[12])
    assert.matches("^ *0%.95 ┤", lines[13])
    assert.matches("^ *0%.9 ┤", lines[22])
    assert.matches("^%s+1%s+%d+%s+200$", lines[24])
    -- accuracy starts at step 100: nothing in the left half of its panel
    for i = 13, 22 do
      local cols = braille(lines[i])
      assert.is_true(#cols > 0 and cols[1] > 40, lines[i])
    end
  end)

  it("draws a schedule's values at steps 1 to steps", function()
    local s = cnn.Step(1.0, 0.5, 10)
    local text = cnn.plotstring({lr = s}, {steps = 40, height = 10})
    assert.truthy(text:find("lr", 1, true))
    assert.truthy(text:find("40", 1, true))
    -- the same picture as its values written out
    local values = {}
    for t = 1, 40 do values[t] = s(t) end
    assert.equal(cnn.plotstring({lr = values}, {height = 10}), text)
    assert.equal(cnn.plotstring({lr = s}, {steps = 100}), cnn.plotstring({lr = s}))
    assert.has_error(function() cnn.plotstring(s, {steps = 0}) end)
  end)

  it("takes tensors and named series, and says how many NaN and inf points it skipped", function()
    local t = cnn.tensor(hundred_points())
    local same = cnn.plotstring(hundred_points())
    assert.are.equal(same, cnn.plotstring(t))
    local text = cnn.plotstring({b = {1, 0 / 0, 3, math.huge}, a = t}, {height = 12})
    local lines = lines_of(text)
    assert.are.equal(12, #lines)
    assert.matches("^%s+a$", lines[1])
    assert.matches("^%s+b %(2 NaN/inf points skipped%)$", lines[6])
    local two = lines_of(cnn.plotstring({1, 2}, t, {height = 12}))
    assert.matches("^%s+y1$", two[1])
    assert.matches("^%s+y2$", two[6])
  end)

  it("prints with cnn.plot", function()
    local saved = io.stdout
    local written = {}
    io.stdout = {write = function(self, s) written[#written + 1] = s; return self end}
    local ok, err = pcall(cnn.plot, {1, 2, 3}, {width = 40, height = 8})
    io.stdout = saved
    assert(ok, err)
    assert.are.same({cnn.plotstring({1, 2, 3}, {width = 40, height = 8})}, written)
  end)

  it("checks its arguments", function()
    assert.has_error(function() cnn.plotstring() end,
      "plotstring: expected one or more series (a History, a 1-D tensor, an array of numbers, "
      .. "a schedule or a table of them by name)")
    assert.has_error(function() cnn.plot("x") end, "plot: the series must be a History, a 1-D tensor, "
      .. 'an array of numbers, a schedule or a table of them by name, got "x"')
    assert.has_error(function() cnn.plot({1}, cnn.zeros(2, 2)) end, "plot: series 2 must be a History, "
      .. "a 1-D tensor, an array of numbers, a schedule or a table of them by name, got a Float32 tensor (2×2)")
    assert.has_error(function() cnn.plot({a = {1, "x"}}) end,
      'plot: the series.a must be a 1-D tensor, an array of numbers or a schedule, got {1, "x"}')
    assert.has_error(function() cnn.plot({1, 2}, {width = 5}) end,
      "plot: width must be an integer >= 20, got 5")
    assert.has_error(function() cnn.plot({1, 2}, {height = 2.5}) end,
      "plot: height must be an integer >= 6, got 2.5")
    assert.has_error(function() cnn.plot({1, 2}, {title = 1}) end, "plot: title must be a string, got 1")
    assert.has_error(function() cnn.plot(cnn.History()) end, "plot: the series is an empty History")
    assert.has_error(function() cnn.plot({1}, {2}, {3}, {4}, {height = 10}) end,
      "plot: 4 series do not fit in 10 lines (each needs 3 lines, the axes 2); "
      .. "give a larger height or fewer series")
  end)
end)
