-- Errors from the library name the line of the code that called it.
local cnn = require "cnn"

-- Runs `code` as a chunk named "=user"; returns the error it raises.
local function raised(code)
  local chunk = assert(load(code, "=user", "t", setmetatable({cnn = cnn}, {__index = _G})))
  local ok, e = pcall(chunk)
  assert(not ok, "expected an error")
  return e
end

describe("errors", function()
  it("of cnn.core under an op point at the user's line", function()
    assert.equal("user:2: add: sizes 2×3 and 3×3 do not broadcast",
      raised("local x = cnn.ones(2, 3)\nlocal y = x + cnn.ones(3, 3)"))
    assert.equal("user:1: matmul: sizes 3×2 and 3×2 do not match (inner dimensions 2 and 3)",
      raised("local y = cnn.matmul(cnn.ones(3, 2), cnn.ones(3, 2))"))
  end)

  it("point at the user's line through the library's tail calls", function()
    assert.equal("user:1: onehotbatch: label 12 is not in the label set {0, 1, ..., 9}",
      raised("local r = cnn.onehotbatch({1, 12}, cnn.range(0, 9))"))
    assert.equal("user:1: onecold: the label set has 2 entries, y has 3 classes (3×2)",
      raised("local r = cnn.onecold(cnn.ones(3, 2), {'a', 'b'})"))
  end)

  it("of a layer called inside a loss point at the loss's line", function()
    local e = raised([[
local m = cnn.Chain(cnn.Dense(3, 2), cnn.softmax)
local function loss(x, y)
  return cnn.crossentropy(m(x), y)
end
cnn.train(loss, cnn.params(m), {{cnn.ones(4, 2), cnn.ones(2, 2)}}, cnn.ADAM(), {progress = false})]])
    assert.equal("user:3: Chain layer 1, Dense(3 => 2): input has 4 features (4×2), expected 3", e)
    assert.equal("user:1: crossentropy: prediction 2×2 and target 3×2 differ in size",
      raised("local r = cnn.crossentropy(cnn.ones(2, 2), cnn.ones(3, 2))"))
  end)

  it("of an optimiser step and of summary point at the user's line", function()
    assert.equal("user:1: descent_step: gradient 4 does not match parameter 3",
      raised("cnn.update(cnn.Descent(0.1), cnn.ones(3), cnn.ones(4))"))
    assert.equal("user:1: Chain layer 1, Dense(3 => 2): input has 4 features (4×4), expected 3",
      raised("local r = cnn.summary(cnn.Chain(cnn.Dense(3, 2)), {4, 4})"))
    assert.equal("user:1: Chain layer 2, Chain layer 1, Dense(2 => 2): input has 3 features (3×4), expected 2",
      raised("local r = cnn.summary(cnn.Chain(cnn.Dense(3, 3), cnn.Chain(cnn.Dense(2, 2))), {3, 4})"))
    assert.equal("user:1: Conv: cout must be a positive integer, got nil",
      raised("local r = cnn.Conv({3, 3}, 1)"))
  end)

  it("of activations name the activation", function()
    assert.equal("user:1: softmax: expected a tensor, got number", raised("local r = cnn.softmax(5)"))
    assert.equal("user:1: relu: expected a tensor, got string", raised("local r = cnn.relu('x')"))
    assert.equal("user:1: flatten: x must be a tensor, got nil", raised("local r = cnn.flatten()"))
    assert.equal("user:1: logsigmoid: x must be a Float32 tensor, got an Int32 tensor (2)",
      raised("local r = cnn.logsigmoid(cnn.zeros(2, 'int32'))"))
    assert.equal("user:1: softplus: bad argument #2 to 'eltwise' (Float32 tensor expected, got Int32)",
      raised("local r = cnn.softplus(cnn.zeros(2, 'int32'))"))
  end)

  it("raised by user code keep their own position", function()
    local op = cnn.op{name = "boom", forward = function() error("user boom") end,
                      backward = function() end}
    local ok, e = pcall(op, cnn.ones(1))
    assert.is_false(ok)
    assert.truthy(e:find("errors_spec.lua:%d+: user boom$"))
    local t = {}
    local _, thrown = pcall(cnn.op{name = "obj", forward = function() error(t) end, backward = function() end})
    assert.equal(t, thrown)
  end)
end)

describe("flatten", function()
  it("keeps an empty batch", function()
    assert.same({9, 0}, cnn.flatten(cnn.zeros(3, 3, 1, 0)):size())
    assert.same({4, 2}, cnn.flatten(cnn.ones(2, 2, 1, 2)):size())
  end)
end)
