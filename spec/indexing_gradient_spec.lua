-- Indexing a tensor inside cnn.gradient is recorded: t[i], t[i][j],
-- t[{i, j}] and views of views pass the gradient back to t.
local cnn = require "cnn"
local helpers = require "helpers"

describe("indexing inside cnn.gradient", function()
  it("adds the gradient of x[2] to column 2", function()
    local x = cnn.ones(2, 3)
    local g = cnn.gradient(function(t) return cnn.sum(t) + cnn.sum(t[2] * 3) end, x)
    helpers.assert_tensor_near(g, cnn.tensor{{1, 4, 1}, {1, 4, 1}}, 0, 0)
    g = cnn.gradient(function(t) return cnn.sum(t[2] * 3) end, x)
    helpers.assert_tensor_near(g, cnn.tensor{{0, 3, 0}, {0, 3, 0}}, 0, 0)
  end)

  it("records elements, t[i][j] and views of views", function()
    local x = cnn.randn(2, 3, 2)
    local g = cnn.gradient(function(t)
      return t[{1, 2, 1}] * 5 + t[2][3][1] * 2 + cnn.sum(t:slice(3, 2, 2)[1]:narrow(2, 2, 2))
    end, x)
    local expected = cnn.zeros(2, 3, 2)
    expected[{1, 2, 1}] = 5
    expected[{1, 3, 2}] = 2 + 1
    expected[{2, 3, 2}] = 1
    expected[{1, 2, 2}] = 1
    expected[{2, 2, 2}] = 1
    helpers.assert_tensor_near(g, expected, 0, 0)
  end)

  it("gives a per-sample loss through yhat[i] the gradients of the batch loss", function()
    cnn.seed(3)
    local m = cnn.Dense(4, 3)
    local x, y = cnn.randn(4, 5), cnn.onehotbatch(cnn.tensor{0, 2, 1, 1, 0}, cnn.range(0, 2))
    local ps = cnn.params(m)
    local batch = cnn.gradient(function() return cnn.logitcrossentropy(m(x), y) end, ps)
    local each = cnn.gradient(function()
      local yhat, total = m(x), 0
      for i = 1, 5 do total = total + cnn.logitcrossentropy(yhat[i], y[i]) end
      return total / 5
    end, ps)
    for _, p in ipairs(ps) do helpers.assert_tensor_near(each[p], batch[p], 1e-5, 1e-6) end
  end)

  it("raises an index out of range at the caller's line", function()
    local msg = helpers.error_message(cnn.gradient, function(t) return cnn.sum(t[7]) end, cnn.ones(2, 3))
    assert.equal("index 7 out of range 1:3 for dimension 2 of 2×3 tensor", msg)
  end)
end)
