-- cnn.confusion: counts of true class × predicted class, and per-class accuracy.
local cnn = require "cnn"
local helpers = require "helpers"

-- Five images whose "model" output is a fixed column of scores each: the
-- input holds the image numbers, so batches of any size pick their columns.
local scores = cnn.tensor{{0.9, 0.1, 0.0}, {0.2, 0.7, 0.1}, {0.1, 0.8, 0.1},
                          {0.0, 0.1, 0.9}, {0.6, 0.3, 0.1}}:transpose()
local function model(x)
  local first = math.tointeger(cnn.core.minimum(x))
  return scores:narrow(2, first, x:numel())
end
local x = cnn.range(1, 5):reshape(1, 5)
local labels = cnn.tensor({10, 20, 30, 30, 20}, "int32")

describe("confusion", function()
  it("counts images by true class (rows) and predicted class (columns)", function()
    for _, batchsize in ipairs{1, 2, 1000} do
      local counts, per_class = cnn.confusion(model, x, labels, {10, 20, 30}, batchsize)
      assert.same({{1, 0, 0}, {1, 1, 0}, {0, 1, 1}}, counts:totable())
      assert.same({1, 0.5, 0.5}, per_class:totable())
    end
    assert.equal(0.6, cnn.accuracy(model, x, labels, {10, 20, 30}))
  end)

  it("takes one-hot targets, Lua label arrays and tensor label sets", function()
    local y = cnn.onehotbatch(labels, {10, 20, 30})
    assert.same({{1, 0, 0}, {1, 1, 0}, {0, 1, 1}}, (cnn.confusion(model, x, y)):totable())
    local counts = cnn.confusion(model, x, {10, 20, 30, 30, 20}, cnn.tensor{10, 20, 30})
    assert.same({{1, 0, 0}, {1, 1, 0}, {0, 1, 1}}, counts:totable())
  end)

  it("gives NaN accuracy for a class without images", function()
    local counts, per_class = cnn.confusion(model, x:narrow(2, 1, 2), labels:narrow(1, 1, 2), {10, 20, 30})
    assert.same({{1, 0, 0}, {0, 1, 0}, {0, 0, 0}}, counts:totable())
    local acc = per_class:totable()
    assert.same({1, 1}, {acc[1], acc[2]})
    assert.is_true(acc[3] ~= acc[3])
  end)

  it("checks its arguments", function()
    assert.equal("confusion: x has 5 images (1×5) but y has 4 (4)",
      helpers.error_message(cnn.confusion, model, x, labels:narrow(1, 1, 4), {10, 20, 30}))
    assert.equal("confusion: y must be a one-hot tensor, or labels with a labelset",
      helpers.error_message(cnn.confusion, model, x, {10, 20, 30, 30, 20}))
    assert.equal("confusion: the model gives 3 classes (3×5), expected 2",
      helpers.error_message(cnn.confusion, model, x, cnn.zeros(2, 5)))
    assert.equal("confusion: label 30 at position 3 is not in the label set {10, 20, 40}",
      helpers.error_message(cnn.confusion, model, x, labels, {10, 20, 40}))
    assert.equal("confusion: y has no classes (0×5); a one-hot y is classes×N",
      helpers.error_message(cnn.confusion, model, x, cnn.zeros(0, 5)))
    assert.equal("accuracy: y has no classes (0×5); a one-hot y is classes×N",
      helpers.error_message(cnn.accuracy, model, x, cnn.zeros(0, 5)))
  end)
end)
