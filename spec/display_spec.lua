-- tostring(t): Julia's display of arrays, elided to fit an 80×24 terminal.
local core = require "cnn.core"

local function lines(s)
  local out = {}
  for line in (s .. "\n"):gmatch("(.-)\n") do out[#out + 1] = line end
  return out
end

local function columns(line)
  return utf8.len(line)
end

describe("tostring of a tensor", function()
  it("shows a matrix as rows under a Julia header", function()
    assert.equal("2×3 Tensor{Float32,2}:\n 1.0  2.0  3.0\n 4.0  5.0  6.0",
      tostring(core.tensor{{1, 2, 3}, {4, 5, 6}}))
  end)

  it("shows a vector one element per line, aligned on the decimal point", function()
    assert.equal("3-element Tensor{Float32,1}:\n   1.5\n  -2.25\n 100.125",
      tostring(core.tensor{1.5, -2.25, 100.125}))
    assert.equal("2×2 Tensor{Float32,2}:\n   1.0  -2.5\n 100.0   4.0",
      tostring(core.tensor{{1, -2.5}, {100, 4}}))
  end)

  it("right-aligns Int32 elements", function()
    assert.equal("3-element Tensor{Int32,1}:\n   1\n -20\n 300",
      tostring(core.tensor({1, -20, 300}, "int32")))
  end)

  it("formats Float32 numbers as Julia does", function()
    local t = core.tensor{0.1, 1e-5, 1e6, 123456, -0.0, 0 / 0, math.huge, -math.huge,
                          0.0001, 1 / 3, 1234567, 2.5e-7}
    local shown = {}
    for i, line in ipairs(lines(tostring(t))) do
      if i > 1 then shown[#shown + 1] = line:match("^%s*(.-)$") end
    end
    assert.same({"0.1", "1.0e-5", "1.0e6", "123456.0", "-0.0", "NaN", "Inf", "-Inf",
                 "0.0001", "0.33333334", "1.234567e6", "2.5e-7"}, shown)
  end)

  it("shows a 0-dim tensor as its number", function()
    assert.equal("2.5", tostring(core.tensor(2.5)))
    assert.equal("7", tostring(core.tensor(7, "int32")))
  end)

  it("shows only the header of an empty tensor", function()
    assert.equal("0-element Tensor{Float32,1}", tostring(core.zeros(0)))
    assert.equal("0×3 Tensor{Int32,2}", tostring(core.zeros(0, 3, "int32")))
  end)

  it("shows higher dimensions as slices", function()
    local t = core.range(1, 8):reshape(2, 2, 2)
    assert.equal("2×2×2 Tensor{Float32,3}:\n"
      .. "[:, :, 1] =\n 1.0  3.0\n 2.0  4.0\n\n"
      .. "[:, :, 2] =\n 5.0  7.0\n 6.0  8.0", tostring(t))
    local image = tostring(core.zeros(28, 28, 1, 1))
    assert.equal("28×28×1×1 Tensor{Float32,4}:", lines(image)[1])
    assert.equal("[:, :, 1, 1] =", lines(image)[2])
  end)

  it("shows the first and last three of many slices", function()
    local t = core.range(1, 10):reshape(1, 1, 10)
    assert.equal("1×1×10 Tensor{Float32,3}:\n"
      .. "[:, :, 1] =\n 1.0\n\n[:, :, 2] =\n 2.0\n\n[:, :, 3] =\n 3.0\n\n"
      .. "⋮\n\n"
      .. "[:, :, 8] =\n 8.0\n\n[:, :, 9] =\n 9.0\n\n[:, :, 10] =\n 10.0", tostring(t))
    local batch = lines(tostring(core.zeros(2, 2, 3, 4)))
    assert.equal("[:, :, 1, 1] =", batch[2])
    assert.equal("[:, :, 2, 1] =", batch[6])
    assert.equal("[:, :, 3, 4] =", batch[#batch - 2])
  end)

  it("elides the middle of a long vector with ⋮", function()
    local l = lines(tostring(core.range(1, 100)))
    assert.equal(21, #l)
    assert.equal("   1.0", l[2])
    assert.equal("  10.0", l[11])
    assert.equal("   ⋮", l[12])
    assert.equal("  92.0", l[13])
    assert.equal(" 100.0", l[21])
  end)

  it("elides wide and tall matrices with …, ⋮ and ⋱ to fit 80×24", function()
    core.seed(3)
    local t = core.rand(100, 100)
    local l = lines(tostring(t))
    assert.is_true(#l <= 24)
    for _, line in ipairs(l) do
      assert.is_true(columns(line) <= 80, line)
    end
    assert.is_truthy(l[2]:find("  …  ", 1, true))
    local dots = l[12]
    assert.is_truthy(dots:find("⋮", 1, true))
    assert.is_truthy(dots:find("⋱", 1, true))
    local function as_float32(s) return core.tensor{tonumber(s)}[1] end
    assert.equal(t:get(100, 1), as_float32(l[#l]:match("^%s*(%S+)")))
    assert.equal(t:get(100, 100), as_float32(l[#l]:match("(%S+)$")))
    assert.equal(t:get(1, 100), as_float32(l[2]:match("(%S+)$")))
    local wide = lines(tostring(core.zeros(2, 30)))
    assert.equal(" 0.0  0.0  0.0  0.0  0.0  0.0  0.0  0.0  …  0.0  0.0  0.0  0.0  0.0  0.0  0.0",
      wide[2])
  end)

  it("shows the elements of non-contiguous views", function()
    local v = core.range(1, 6):reshape(2, 3):slice(2, 2, 3)
    assert.equal("2×2 Tensor{Float32,2}:\n 3.0  5.0\n 4.0  6.0", tostring(v))
    local row = core.range(1, 6):reshape(2, 3):select(1, 2)
    assert.equal("3-element Tensor{Float32,1}:\n 2.0\n 4.0\n 6.0", tostring(row))
  end)

  it("is what print and core.tostring use, and works on freed tensors", function()
    local t = core.ones(2, 2)
    assert.equal(tostring(t), core.tostring(t))
    t:free()
    assert.equal("2×2 Tensor{Float32,2} (freed)", tostring(t))
    assert.has_error(function() core.tostring(3) end)
  end)
end)
