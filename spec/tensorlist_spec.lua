-- A long array of tensors shown as one line, by cnn.repr and so at the
-- prompt and by cnn.show.
local cnn = require "cnn"
local tensorlist = require "cnn.tensorlist"

local function tensors(n, ...)
  local list = {}
  for i = 1, n do list[i] = cnn.zeros(...) end
  return list
end

describe("tensorlist.summary", function()
  it("counts the arrays and their numbers, and names the first three", function()
    local list = { cnn.zeros(3, 3, 1, 16), cnn.zeros(16), cnn.zeros(3, 3, 16, 32), cnn.zeros(32),
                   cnn.zeros(1152, 10), cnn.zeros(10), cnn.zeros(10, 10), cnn.zeros(10, "int32") }
    assert.equal("8 arrays, 16_440 numbers: 3×3×1×16 Float32, 16 Float32, 3×3×16×32 Float32, …",
      tensorlist.summary(list))
  end)

  it("names an Int32 array's type and a 0-dim array's sizes", function()
    assert.equal("2 arrays, 3 numbers: 2 Int32, 0-dim Float32",
      tensorlist.summary{ cnn.zeros(2, "int32"), cnn.tensor(1.5) })
  end)

  it("leaves out the ellipsis when every array is named", function()
    assert.equal("1 array, 1 number: 1 Float32", tensorlist.summary{ cnn.zeros(1) })
  end)
end)

describe("tensorlist.is_long", function()
  it("holds for a plain array of more than four tensors only", function()
    assert.is_true(tensorlist.is_long(tensors(5, 2)))
    assert.is_false(tensorlist.is_long(tensors(4, 2)))
    local mixed = tensors(6, 2)
    mixed[3] = 1
    assert.is_false(tensorlist.is_long(mixed))
    local keyed = tensors(6, 2)
    keyed.name = "w"
    assert.is_false(tensorlist.is_long(keyed))
    assert.is_false(tensorlist.is_long(cnn.zeros(6)))
  end)
end)

describe("cnn.repr of arrays of tensors", function()
  it("summarises cnn.params of a model of more than two layers", function()
    local m = cnn.Chain(cnn.Dense(2, 2), cnn.Dense(2, 2), cnn.Dense(2, 2))
    assert.equal("6 arrays, 18 numbers: 2×2 Float32, 2 Float32, 2×2 Float32, …", cnn.repr(cnn.params(m)))
  end)

  it("keeps the full display of a short array and of mixed tables", function()
    local short = { cnn.ones(1), cnn.ones(1) }
    assert.equal("{" .. tostring(short[1]) .. ", " .. tostring(short[2]) .. "}", cnn.repr(short))
    assert.equal("{1, 2, 3}", cnn.repr{ 1, 2, 3 })
  end)
end)
