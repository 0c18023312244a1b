-- Every differentiable op against central finite differences.
local cnn = require "cnn"
local helpers = require "helpers"

local core = cnn.core
local ops = cnn.ops
local check = helpers.gradcheck

local data, wsum = helpers.smooth_data, helpers.wsum

describe("algebra ops", function()
  it("add, sub, mul, div with broadcasting and numbers", function()
    local a, b, r = data({3, 2}, 1), data({3}, 2), data({1, 2}, 3)
    for _, f in ipairs{ops.add, ops.sub, ops.mul, ops.div} do
      check(function(x, y) return wsum(f(x, y)) end, {a, b})
      check(function(x, y) return wsum(f(y, x)) end, {a, r})
      check(function(x) return wsum(f(x, 2.5)) end, {a})
      check(function(x) return wsum(f(1.5, x)) end, {a})
    end
  end)

  it("pow with a number exponent and a tensor exponent", function()
    local a = data({2, 3}, 4, true)
    check(function(x) return wsum(ops.pow(x, 3)) end, {a})
    check(function(x) return wsum(x ^ 0.5) end, {a})
    check(function(x, p) return wsum(ops.pow(x, p)) end, {a, data({2, 3}, 5)})
    check(function(p) return wsum(ops.pow(2, p)) end, {data({3}, 6)})
  end)

  it("neg", function()
    check(function(x) return wsum(-x) end, {data({4}, 7)})
    check(function(x) return wsum(ops.neg(x)) end, {data({2, 2}, 8)})
  end)

  it("a tensor used twice", function()
    check(function(x) return wsum(x * x + x / (x * x + 1)) end, {data({5}, 9)})
  end)

  it("matmul of matrices and of a matrix and a vector", function()
    check(function(a, b) return wsum(ops.matmul(a, b)) end, {data({3, 4}, 10), data({4, 2}, 11)})
    check(function(a, v) return wsum(ops.matmul(a, v)) end, {data({3, 4}, 12), data({4}, 13)})
  end)

  it("transpose", function()
    check(function(a) return wsum(ops.transpose(a)) end, {data({3, 2}, 14)})
  end)
end)

describe("shape ops and reductions", function()
  it("reshape and flatten", function()
    check(function(x) return wsum(ops.reshape(x, 3, 4)) end, {data({2, 6}, 15)})
    check(function(x) return wsum(x:reshape(-1)) end, {data({2, 3}, 16)})
    local x = data({2, 2, 3, 2}, 17)
    assert.are.same({12, 2}, ops.flatten(x):size())
    check(function(y) return wsum(cnn.flatten(y)) end, {x})
  end)

  it("views and copies: select, slice, narrow, clone, contiguous", function()
    local x = data({3, 4, 2}, 40)
    check(function(y) return wsum(y:select(2, 3)) end, {x})
    check(function(y) return wsum(cnn.ops.slice(y, 1, 2, 3)) end, {x})
    check(function(y) return wsum(y:narrow(3, 2, 1) * y:select(3, 1)) end, {x})
    check(function(y) return wsum(y:clone() * y) end, {x})
    check(function(y) return wsum(y:select(1, 2):contiguous()) end, {x})
  end)

  it("sum and mean, of all elements and along a dimension", function()
    local x = data({3, 4}, 18)
    check(function(y) return cnn.sum(y) * 2 end, {x})
    check(function(y) return cnn.mean(y) * 3 end, {x})
    for dim = 1, 2 do
      check(function(y) return wsum(cnn.sum(y, dim)) end, {x})
      check(function(y) return wsum(y:mean(dim)) end, {x})
    end
  end)
end)

describe("elementwise functions", function()
  it("exp, log, sqrt, abs", function()
    check(function(x) return wsum(cnn.exp(x)) end, {data({6}, 19)})
    check(function(x) return wsum(cnn.log(x)) end, {data({6}, 20, true)})
    check(function(x) return wsum(x:sqrt()) end, {data({6}, 21, true)})
    check(function(x) return wsum(cnn.abs(x)) end, {data({6}, 22)})
  end)

  it("activations", function()
    local x = data({4, 3}, 23)
    for _, name in ipairs{"relu", "sigmoid", "tanh", "gelu", "softplus", "logsigmoid",
                          "softmax", "logsoftmax"} do
      check(function(y) return wsum(cnn[name](y)) end, {x})
    end
    check(function(y) return wsum(cnn.leakyrelu(y)) end, {x})
    check(function(y) return wsum(cnn.leakyrelu(y, 0.2)) end, {x})
    check(function(y) return wsum(cnn.elu(y)) end, {x})
    check(function(y) return wsum(cnn.elu(y, 0.5)) end, {x})
    -- the data keep a distance from the bounds, where the gradient jumps
    check(function(y) return wsum(cnn.hardtanh(y * 0.5)) end, {x})
    check(function(y) return wsum(cnn.hardtanh(y, -0.7, 0.5)) end, {x})
  end)
end)

describe("layer kernels", function()
  it("conv2d with bias, padding, stride and a fused relu", function()
    local x, w, b = data({5, 4, 2, 2}, 24), data({3, 3, 2, 3}, 25), data({3}, 26)
    local plain = {pad = {1, 1, 1, 1}}
    local fused = {pad = {1, 1, 1, 1}, activation = "relu"}
    local strided = {stride = {2, 1}}
    check(function(a, k, c) return wsum(cnn.conv2d(a, k, c, plain)) end, {x, w, b})
    -- the fused relu has the gradient of relu after the convolution (a
    -- finite difference could step across relu's kink)
    local fg = table.pack(cnn.gradient(function(a, k, c)
      return wsum(cnn.conv2d(a, k, c, fused))
    end, x, w, b))
    local ug = table.pack(cnn.gradient(function(a, k, c)
      return wsum(cnn.relu(cnn.conv2d(a, k, c, plain)))
    end, x, w, b))
    for i = 1, 3 do helpers.assert_tensor_near(fg[i], ug[i], 1e-5, 1e-6) end
    -- the relu did cut: some outputs are zero, some are not
    local y = cnn.conv2d(x, w, b, fused)
    assert.is_true(core.sum(core.eq(y, 0)) > 0 and core.sum(core.gt(y, 0)) > 0)
    check(function(a, k) return wsum(cnn.conv2d(a, k, nil, strided)) end, {x, w})
  end)

  it("pool2d, max and mean", function()
    local x = data({4, 4, 2, 2}, 27)
    local opts = {window = {2, 2}, stride = {2, 2}}
    check(function(a) return wsum(cnn.pool2d("max", a, opts)) end, {x})
    check(function(a) return wsum(cnn.pool2d("mean", a, opts)) end, {x})
  end)

  it("dense on a batch and on a vector, with and without bias", function()
    local x, w, b = data({4, 3}, 28), data({2, 4}, 29), data({2}, 30)
    check(function(a, k, c) return wsum(cnn.dense(a, k, c)) end, {x, w, b})
    check(function(a, k) return wsum(cnn.dense(a, k)) end, {x, w})
    local v = data({4}, 31)
    assert.are.same({2}, cnn.dense(v, w, b):size())
    check(function(a, k, c) return wsum(cnn.dense(a, k, c)) end, {v, w, b})
  end)

  it("batchnorm in training and in test mode", function()
    for _, sizes in ipairs{{3, 2, 2, 4}, {3, 5}} do
      local x = data(sizes, 32)
      local c = #sizes >= 3 and sizes[#sizes - 1] or sizes[1]
      local gamma, beta = data({c}, 33, true), data({c}, 34)
      local rm, rv = data({c}, 35), data({c}, 36, true)
      for _, training in ipairs{true, false} do
        check(function(a, g, bt)
          -- copies, so that training mode does not drift the statistics
          local m, v = core.clone(rm), core.clone(rv)
          return wsum(cnn.batchnorm(a, g, bt, m, v, training, 0.1, 1e-5))
        end, {x, gamma, beta}, {rtol = 5e-2, atol = 2e-3})
      end
    end
  end)

  it("dropout with a fixed mask", function()
    local x = data({4, 5}, 37)
    check(function(a)
      core.seed(7)
      return wsum(cnn.dropout(a, 0.4, true))
    end, {x})
    assert.is_true(rawequal(x, cnn.dropout(x, 0.4, false)))
    assert.is_true(rawequal(x, cnn.dropout(x, 0)))
    assert.has_error(function() cnn.dropout(x, 1.5) end)
  end)
end)

describe("maxima and minima", function()
  it("maximum and minimum, whole and along a dimension, and the methods", function()
    -- apart by more than the finite differences' step along every row and column
    local a = cnn.tensor{{0.1, 0.9, -0.5, 0.3}, {-1.2, 0.6, 1.5, -0.8}, {0.7, -0.2, 0.4, 1.1}}
    for _, f in ipairs{cnn.maximum, cnn.minimum} do
      check(function(x) return f(x) * 2 end, {a})
      check(function(x) return wsum(f(x, 1)) end, {a})
      check(function(x) return wsum(f(x, 2)) end, {a})
    end
    check(function(x) return x:max() + x:min(2)[{2, 1}] end, {a})
  end)

  it("split the gradient evenly among equal extremes", function()
    local x = cnn.tensor{{1, 5, 3}, {4, 5, 2}}
    assert.same({{0, 0.5, 0}, {0, 0.5, 0}}, cnn.gradient(cnn.maximum, x):totable())
    local g = cnn.gradient(function(t) return cnn.sum(cnn.minimum(t, 1)) end, cnn.tensor{{2, 1}, {2, 3}})
    assert.same({{0.5, 1}, {0.5, 0}}, g:totable())
  end)

  it("elementwise max and min with broadcasting and numbers", function()
    local a, b = data({3, 2}, 4), data({3}, 5)
    for _, f in ipairs{cnn.max, cnn.min} do
      check(function(x, y) return wsum(f(x, y)) end, {a, b})
      check(function(x) return wsum(f(x, 0.3)) end, {a})
      check(function(x) return wsum(f(-0.3, x)) end, {a})
    end
  end)
end)

describe("more activations, losses and rearranging copies", function()
  it("celu with its scale, relu6 and hardsigmoid on both sides of their kinks", function()
    local x = data({4, 3}, 70)
    check(function(y) return wsum(cnn.celu(y, 0.5)) end, {x})
    check(function(y) return wsum(cnn.celu(y, 2)) end, {x})
    check(function(y) return wsum(cnn.relu6(y * 5 + 3)) end, {x}) -- below 0, between, above 6
    check(function(y) return wsum(y:hardsigmoid() + cnn.hardsigmoid(y * 4)) end, {x})
  end)

  it("the losses' options: agg, delta, gamma and dims", function()
    local a, b = data({3, 4}, 71), data({3, 4}, 72, true)
    check(function(p, q) return cnn.mae(p, q, {agg = "sum"}) end, {a, b})
    check(function(p, q) return cnn.huber_loss(p, q, {delta = 0.5}) end, {a, b})
    check(function(p, q) return cnn.huber_loss(p * 3, q, {delta = 2, agg = cnn.sum}) end, {a, b})
    check(function(p, q) return cnn.kldivergence(cnn.softmax(p, 2), q, {dims = 2}) end, {a, b})
    check(function(p, q) return cnn.focal_loss(cnn.softmax(p), q, {gamma = 0.5, agg = "sum"}) end, {a, b})
    check(function(p, q) return cnn.binary_focal_loss(cnn.sigmoid(p), q, {gamma = 3}) end, {a, b})
    check(function(p, q) return cnn.squared_hinge_loss(p, q, {agg = "sum"}) end, {a, b})
  end)

  it("cat, flip, pad and repeat_ as methods and of views", function()
    local x = data({3, 4}, 73)
    check(function(y) return wsum(y:slice(2, 2, 3):cat(y:select(2, 1), {dims = 2})) end, {x})
    check(function(y) return wsum(y:transpose():flip({1, 2})) end, {x})
    check(function(y) return wsum(y:select(1, 2):pad(2, -1)) end, {x})
    check(function(y) return wsum(y:narrow(1, 1, 2):repeat_({1, 2})) end, {x})
  end)
end)
