local cnn = require "cnn"

-- Replaces print while f runs; returns what was printed, one entry per call.
local function capture_print(f, ...)
  local lines = {}
  local saved = _G.print
  _G.print = function(...)
    local parts = table.pack(...)
    for i = 1, parts.n do parts[i] = tostring(parts[i]) end
    lines[#lines + 1] = table.concat(parts, "\t")
  end
  local results = table.pack(pcall(f, ...))
  _G.print = saved
  assert(results[1], results[2])
  return lines, table.unpack(results, 2, results.n)
end

local function wait(seconds)
  local t0 = cnn.core.monotime()
  repeat until cnn.core.monotime() - t0 >= seconds
end

describe("throttle", function()
  it("runs the first call, drops calls within the window, runs again after it", function()
    local runs = 0
    local f = cnn.throttle(function(x) runs = runs + 1; return x * 2 end, 0.05)
    assert.are.equal(6, f(3))
    assert.are.equal(1, runs)
    assert.is_nil(f(4))
    assert.is_nil(f(5))
    assert.are.equal(1, runs)
    wait(0.06)
    assert.are.equal(14, f(7))
    assert.are.equal(2, runs)
    assert.is_nil(f(8))
    assert.are.equal(2, runs)
  end)

  it("passes all arguments and returns all results", function()
    local f = cnn.throttle(function(a, b, c) return c, b, a end, 10)
    local r = table.pack(f(1, nil, 3))
    assert.are.same({ n = 3, 3, nil, 1 }, r)
  end)

  it("with a zero window runs every call", function()
    local runs = 0
    local f = cnn.throttle(function() runs = runs + 1 end, 0)
    for _ = 1, 5 do f() end
    assert.are.equal(5, runs)
  end)

  it("rejects a non-function and a bad window", function()
    assert.has_error(function() cnn.throttle(42, 1) end, "throttle: expected a function, got number")
    assert.has_error(function() cnn.throttle(print, -1) end, "throttle: seconds must be a number >= 0")
    assert.has_error(function() cnn.throttle(print, 0 / 0) end, "throttle: seconds must be a number >= 0")
  end)
end)

describe("time", function()
  it("prints seconds, tensor allocations and bytes, and returns f's results", function()
    local lines, a, b, c = capture_print(cnn.time, function(n)
      return cnn.zeros(n, n), "x", nil
    end, 16)
    assert.are.equal(1, #lines)
    assert.matches("^ +%d+%.%d%d%d%d%d%d seconds %(1 allocation: 1%.000 KiB%)$", lines[1])
    assert.are.same({ 16, 16 }, a:size())
    assert.are.equal("x", b)
    assert.is_nil(c)
  end)

  it("counts every allocation", function()
    local lines = capture_print(cnn.time, function()
      for _ = 1, 3 do cnn.zeros(1024, 256) end
    end)
    assert.matches(" seconds %(3 allocations: 3%.000 MiB%)$", lines[1])
  end)

  it("prints only the seconds when nothing was allocated", function()
    local lines = capture_print(cnn.time, function() return 1 end)
    assert.matches("^ +%d+%.%d+ seconds$", lines[1])
  end)

  it("formats bytes as Julia does", function()
    local utils = require "cnn.progress"
    assert.are.equal("1 byte", utils.format_bytes(1))
    assert.are.equal("96 bytes", utils.format_bytes(96))
    assert.are.equal("1.500 KiB", utils.format_bytes(1536))
    assert.are.equal("45.678 MiB", utils.format_bytes(math.floor(45.678 * 1024 * 1024)))
    assert.are.equal("2.000 GiB", utils.format_bytes(2 * 1024 ^ 3))
    assert.are.equal("  1.234567 seconds (123 allocations: 45.678 MiB)",
      utils.format_time(1.234567, 123, math.floor(45.678 * 1024 * 1024)))
  end)
end)

describe("show", function()
  it("prints name = value and returns the value", function()
    local lines, v = capture_print(cnn.show, "n", 60000)
    assert.are.same({ "n = 60000" }, lines)
    assert.are.equal(60000, v)
  end)

  it("quotes strings and shows arrays", function()
    local lines = capture_print(cnn.show, "s", "abc")
    assert.are.same({ 's = "abc"' }, lines)
    lines = capture_print(cnn.show, "t", { 28, 28, 1 })
    assert.are.same({ "t = {28, 28, 1}" }, lines)
  end)

  it("shows tensors through tostring", function()
    local t = cnn.ones(2)
    local lines = capture_print(cnn.show, "t", t)
    assert.are.same({ "t = " .. tostring(t) }, lines)
  end)

  it("takes a table of names, printed in sorted order", function()
    local lines = capture_print(cnn.show, { b = 2, a = 1.5, c = true })
    assert.are.same({ "a = 1.5", "b = 2", "c = true" }, lines)
  end)

  it("rejects a call without a name", function()
    assert.has_error(function() cnn.show(1, 2) end,
      "show: expected show(name, value), show{name = value} or show(value), got a number name")
  end)

  it("prints a single value as the prompt shows it and returns it", function()
    local sizes = { 28, 28, 1, 128 }
    local lines, v = capture_print(cnn.show, sizes)
    assert.are.same({ "{28, 28, 1, 128}" }, lines)
    assert.are.equal(sizes, v)
    lines = capture_print(cnn.show, 2.5)
    assert.are.same({ "2.5" }, lines)
    local ps = cnn.params(cnn.Chain(cnn.Dense(2, 3), cnn.Dense(3, 2), cnn.Dense(2, 1)))
    lines = capture_print(cnn.show, ps)
    assert.are.same({ "6 arrays, 20 numbers: 3×2 Float32, 3 Float32, 2×3 Float32, …" }, lines)
  end)
end)

describe("imagestring", function()
  it("draws a W×H image with x along the line, two characters per pixel", function()
    -- 3 wide, 2 high; x fastest as MNIST is stored
    local img = cnn.zeros(3, 2)
    img:set(1, 1, 4) -- top left: brightest
    img:set(3, 2, 2) -- bottom right: middle
    assert.are.equal("██    \n    ▒▒", cnn.imagestring(img))
  end)

  it("accepts trailing singleton dims and rejects a batch", function()
    local img = cnn.zeros(2, 2, 1, 1)
    img:set(2, 1, 1, 1, 1)
    assert.are.equal("  ██\n    ", cnn.imagestring(img))
    assert.has_error(function() cnn.imagestring(cnn.zeros(2, 2, 1, 3)) end,
      "imagestring: expected one W×H image, got 2×2×1×3")
  end)

  it("showimage prints it", function()
    local img = cnn.ones(2, 1)
    local lines = capture_print(cnn.showimage, img)
    assert.are.same({ "████" }, lines)
  end)
end)
