-- What a Flux or PyTorch user reaches for on a model: indexing and
-- slicing a Chain, its parameters, outputsize, and train's argument checks.
local cnn = require "cnn"
local helpers = require "helpers"

local notebook_model = helpers.notebook_model

describe("Chain indexing", function()
  local m = notebook_model()

  it("counts negative indices from the end", function()
    assert.equal(cnn.softmax, m[-1])
    assert.equal(m[8], m[-2])
    assert.equal(m[1], m[-9])
    assert.is_nil(m[10])
    assert.is_nil(m[-10])
  end)

  it("slices with {first, last}, last defaulting to the end, sharing the layers", function()
    local head = m[{1, -2}]
    assert.equal(8, #head)
    assert.equal(m[8], head[8])
    local tail = m[{8}]
    assert.equal(2, #tail)
    assert.equal(m[8], tail[1])
    assert.equal(0, #m[{3, 2}])
    local logits = head(cnn.zeros(28, 28, 1, 2))
    assert.same({10, 2}, logits:size())
    -- Flux's Chain(m[1:end-2]..., Dense(288, 5)): the slice nests as a layer
    local five = cnn.Chain(m[{1, -3}], cnn.Dense(288, 5))
    assert.same({5, 2}, five(cnn.zeros(28, 28, 1, 2)):size())
    assert.equal(m[1].weight, cnn.params(five)[1])
  end)

  it("rejects slices out of range", function()
    assert.equal("Chain: layers 1 to 12 are out of range for a Chain of 9 layers",
      helpers.error_message(function() return m[{1, 12}] end))
    assert.equal("Chain: layers 0 to 2 are out of range for a Chain of 9 layers",
      helpers.error_message(function() return m[{0, 2}] end))
    assert.equal("Chain: a slice is {first, last} with integer indices",
      helpers.error_message(function() return m[{"a"}] end))
  end)

  it("iterates with ipairs", function()
    local n = 0
    for i, l in ipairs(m) do
      n = i
      assert.equal(m[i], l)
    end
    assert.equal(9, n)
  end)
end)

describe("parameters", function()
  it("of a Chain are cnn.params of it, nested Chains included", function()
    local inner = cnn.Chain(cnn.Dense(4, 3), cnn.relu)
    local m = cnn.Chain(inner, cnn.Dense(3, 2))
    local ps = m:parameters()
    assert.equal(4, #ps)
    assert.equal(inner[1].weight, ps[1])
    assert.equal(m[2].bias, ps[4])
    assert.same(cnn.params(m), ps)
    assert.equal(2, #inner:parameters())
    -- printing counts each layer's own parameters once
    assert.truthy(tostring(m):find("Total: 4 arrays, 23 parameters", 1, true))
  end)
end)

describe("outputsize", function()
  it("gives the sizes of the model's output for input sizes", function()
    local m = notebook_model()
    assert.same({10, 1}, cnn.outputsize(m, {28, 28, 1, 1}))
    assert.same({288, 5}, cnn.outputsize(m[{1, 7}], {28, 28, 1, 5}))
    assert.same({7, 7, 16, 3}, cnn.outputsize(cnn.Chain(m[1], m[2], m[2]), {28, 28, 1, 3}))
    assert.same({3}, cnn.outputsize(cnn.Dense(4, 3), {4}))
  end)

  it("leaves BatchNorm's running statistics alone", function()
    local bn = cnn.BatchNorm(2)
    local m = cnn.Chain(cnn.Dense(3, 2), bn)
    cnn.trainmode(m)
    assert.same({2, 4}, cnn.outputsize(m, {3, 4}))
    assert.same({0, 0}, bn.running_mean:totable())
    assert.equal("train", bn.mode)
  end)

  it("names the layer an input does not fit, and checks its arguments", function()
    assert.equal("Chain layer 1, Conv((3, 3), 1 => 16, relu, pad=1): input has 3 channels (28×28×3×1), expected 1",
      helpers.error_message(cnn.outputsize, notebook_model(), {28, 28, 3, 1}))
    assert.equal("outputsize: input sizes must be a table such as {28, 28, 1, 1}",
      helpers.error_message(cnn.outputsize, notebook_model(), 28))
    assert.equal("outputsize: the model returned a number, not a tensor",
      helpers.error_message(cnn.outputsize, function() return 1 end, {2}))
  end)
end)

describe("train", function()
  it("checks its parameters and optimiser before the first step", function()
    local m = cnn.Dense(2, 1)
    local calls = 0
    local function loss(x, y) calls = calls + 1; return cnn.mse(m(x), y) end
    local data = {{cnn.ones(2, 3), cnn.ones(1, 3)}}
    assert.equal("train: opt is nil; pass an optimiser such as cnn.ADAM()",
      helpers.error_message(cnn.train, loss, cnn.params(m), data, nil))
    assert.equal("train: opt is nil; pass an optimiser such as cnn.ADAM()",
      helpers.error_message(cnn.train, loss, cnn.params(m), {}, nil))
    assert.equal("train: ps is nil; pass cnn.params(model)",
      helpers.error_message(cnn.train, loss, nil, data, cnn.ADAM()))
    assert.equal(0, calls)
  end)
end)
