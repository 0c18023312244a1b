-- NaN goes through every layer as Flux and PyTorch carry it: relu (alone,
-- fused into a convolution, before a max pooling), the other activations,
-- max pooling, and a whole network, whose loss then stops cnn.train.
local cnn = require "cnn"
local core = cnn.core
local helpers = require "helpers"

local nan, inf = 0 / 0, math.huge

local function is_nan(v) return v ~= v end

local function count_nan(t)
  local n = 0
  for _, v in ipairs(helpers.flat(t)) do
    if is_nan(v) then n = n + 1 end
  end
  return n
end

describe("relu and the other activations", function()
  it("relu gives NaN for NaN, +0 for every number not above 0, x above", function()
    local y = cnn.relu(cnn.tensor({nan, -1, 2, -inf, inf, -0.0, 0, 3}))
    local v = helpers.flat(y)
    assert.is_true(is_nan(v[1]))
    assert.are.same({0, 2, 0, inf, 0, 0, 3}, {table.unpack(v, 2)})
    -- +0, not -0: Flux's max(x, 0) prints 0.0
    assert.are.equal(inf, 1 / v[2])
    assert.are.equal(inf, 1 / v[6])
  end)

  it("relu keeps NaN in a tensor long enough for the vector code and threads", function()
    local x = cnn.zeros(100000)
    x[1], x[77777] = nan, nan
    x[2] = -5
    local y = cnn.relu(x)
    assert.is_true(is_nan(y[1]) and is_nan(y[77777]))
    assert.are.equal(2, count_nan(y))
    assert.are.equal(0, y[2])
  end)

  it("relu keeps NaN in a convolution's blocked output", function()
    local x = cnn.zeros(4, 4, 1, 1)
    x[{2, 2, 1, 1}] = nan
    local conv = core.conv2d(x, cnn.ones(1, 1, 1, 16), nil, {})
    assert.are.equal("blocked", core.layout(conv))
    local y = cnn.relu(conv)
    assert.are.equal("blocked", core.layout(y))
    assert.are.equal(16, count_nan(y))
    assert.are.equal(0, y[{1, 1, 5, 1}])
  end)

  it("every elementwise activation maps NaN to NaN", function()
    local x = cnn.tensor({nan, -1, 2})
    for _, name in ipairs({"relu", "leakyrelu", "elu", "sigmoid", "tanh", "gelu",
                           "softplus", "logsigmoid", "softmax", "logsoftmax"}) do
      local y = cnn[name](x)
      assert.is_true(is_nan(y[1]), name)
    end
  end)

  it("an incoming NaN gradient comes out NaN where the activation passes it", function()
    local x = cnn.tensor({-1, 2, 3})
    local gs = cnn.gradient(function(z) return cnn.sum(cnn.relu(z) * cnn.tensor({1, nan, 1})) end, x)
    local g = helpers.flat(gs)
    assert.are.equal(0, g[1])
    assert.is_true(is_nan(g[2]))
    assert.are.equal(1, g[3])
  end)
end)

describe("relu fused into a convolution", function()
  it("keeps the NaN of an input pixel in the outputs it reaches", function()
    local conv = cnn.Conv({3, 3}, 1, 2, cnn.relu, {pad = 1})
    local x = cnn.rand(6, 6, 1, 1)
    x[{1, 1, 1, 1}] = nan
    local y = conv(x)
    -- the 2×2 corner of each of the 2 channels sees the pixel
    assert.are.equal(8, count_nan(y))
    assert.is_true(is_nan(y[{2, 2, 2, 1}]))
    assert.is_false(is_nan(y[{3, 3, 1, 1}]))
  end)

  it("keeps the NaN of inf - inf, which the fast fused relu would turn into 0", function()
    local x = cnn.tensor({inf, inf}):reshape(2, 1, 1, 1)
    local w = cnn.tensor({1, -1}):reshape(2, 1, 1, 1)
    local y = core.conv2d(x, w, nil, {activation = "relu"})
    assert.is_true(is_nan(y[{1, 1, 1, 1}]))
  end)

  it("gives relu's result when large finite inputs overflow", function()
    local x = cnn.tensor({3e38, 3e38, -3e38}):reshape(3, 1, 1, 1)
    local y = core.conv2d(x, cnn.fill(cnn.zeros(1, 1, 1, 1), 10), nil, {activation = "relu"})
    assert.are.same({inf, inf, 0}, helpers.flat(y))
  end)

  it("gives 0 for -inf and for negative sums, as relu does", function()
    local x = cnn.tensor({-inf, -3, 1}):reshape(3, 1, 1, 1)
    local y = core.conv2d(x, cnn.ones(1, 1, 1, 1), nil, {activation = "relu"})
    assert.are.same({0, 0, 1}, helpers.flat(y))
    assert.are.equal(inf, 1 / y[{1, 1, 1, 1}])
  end)
end)

describe("max pooling", function()
  local function pool(x, opts)
    return core.pool2d("max", x, opts or {window = 2}, true)
  end

  it("gives NaN for a window that holds a NaN, plain or blocked", function()
    local x = cnn.zeros(4, 4, 16, 1)
    for c = 1, 16 do
      x[{1, 1, c, 1}] = nan
      x[{2, 1, c, 1}] = 7
    end
    -- the same values through a 1×1 convolution that copies each channel,
    -- which leaves them in a blocked layout
    local copy = cnn.zeros(1, 1, 16, 16)
    for c = 1, 16 do copy[{1, 1, c, c}] = 1 end
    local blocked = core.conv2d(x, copy, nil, {})
    assert.are.equal("blocked", core.layout(blocked))
    for _, input in ipairs({x, blocked}) do
      local y = pool(input)
      assert.is_true(is_nan(y[{1, 1, 1, 1}]))
      assert.are.equal(16, count_nan(y))
    end
  end)

  it("gives NaN, not the lowest float, for a window of NaN only", function()
    local y = pool(cnn.fill(cnn.zeros(2, 2, 3, 1), nan))
    assert.are.equal(3, count_nan(y))
  end)

  it("keeps -inf for a window of -inf only, and skips the padding", function()
    local x = cnn.fill(cnn.zeros(3, 3, 1, 1), -inf)
    local y = pool(x, {window = 2, pad = 1})
    assert.are.same({-inf, -inf, -inf, -inf}, helpers.flat(y))
  end)

  it("sends the gradient of a NaN window to its first NaN", function()
    local x = cnn.tensor({1, nan, 5, nan}):reshape(2, 2, 1, 1)
    local y, ws = pool(x)
    local gx = core.pool2d_backward("max", cnn.ones(1, 1, 1, 1), x:size(), ws, {window = 2})
    assert.are.same({0, 1, 0, 0}, helpers.flat(gx))
    assert.is_true(is_nan(y[{1, 1, 1, 1}]))
  end)

  it("sends a NaN gradient back where the maximum was", function()
    local x = cnn.tensor({1, 4, 5, 2}):reshape(2, 2, 1, 1)
    local _, ws = pool(x)
    local gx = core.pool2d_backward("max", cnn.fill(cnn.zeros(1, 1, 1, 1), nan), x:size(), ws,
      {window = 2})
    local g = helpers.flat(gx)
    assert.is_true(is_nan(g[3]))
    assert.are.same({0, 0, 0}, {g[1], g[2], g[4]})
  end)
end)

describe("a network with a NaN", function()
  local x = cnn.rand(28, 28, 1, 4)
  local y = cnn.onehotbatch({1, 2, 3, 4}, cnn.range(0, 9))

  it("gives a NaN loss for a NaN input pixel", function()
    local m = helpers.notebook_model()
    assert.is_false(is_nan(cnn.crossentropy(m(x), y)))
    local bad = x:clone()
    bad[{13, 17, 1, 3}] = nan
    assert.is_true(is_nan(cnn.crossentropy(m(bad), y)))
  end)

  it("gives a NaN loss and NaN gradients for one NaN weight", function()
    local m = helpers.notebook_model()
    m[3].weight[{2, 2, 5, 7}] = nan
    local ps = cnn.params(m)
    local loss, gs = cnn.withgradient(function() return cnn.crossentropy(m(x), y) end, ps)
    assert.is_true(is_nan(cnn.item(loss)))
    assert.is_true(count_nan(gs[m[8].weight]) > 0)
  end)

  it("stops cnn.train at the first step", function()
    local m = helpers.notebook_model()
    m[1].bias[3] = nan
    local before = m[8].weight:clone()
    assert.has_error(function()
      cnn.train(function(a, b) return cnn.crossentropy(m(a), b) end, cnn.params(m),
        {{x, y}, {x, y}, {x, y}}, cnn.ADAM(), {progress = false})
    end, "train: loss is NaN at step 1")
    helpers.assert_tensor_near(m[8].weight, before, 0, 0)
  end)
end)

describe("Int32 tensors", function()
  local range = "(whole numbers from -2147483648 to 2147483647)"

  local function refuses(message, f, ...)
    assert.are.equal(message .. " " .. range, helpers.error_message(f, ...))
  end

  it("take the whole numbers that fit, from integers and floats alike", function()
    local t = cnn.tensor({2147483647, -2147483648, 3.0, -0.0}, "int32")
    assert.are.same({2147483647, -2147483648, 3, 0}, t:totable())
    assert.are.equal(7, cnn.tensor(7.0, "int32"):item())
    assert.are.same({4, 4}, cnn.core.fill(4.0, 2, "int32"):totable())
  end)

  it("refuse in the constructor what does not fit, naming the value", function()
    refuses("tensor: 1099511627776.0 does not fit in an Int32 tensor",
      cnn.tensor, {2 ^ 40}, "int32")
    refuses("tensor: 2147483648 does not fit in an Int32 tensor",
      cnn.tensor, {1, 2147483648}, "int32")
    refuses("tensor: 2.5 does not fit in an Int32 tensor", cnn.tensor, {{1}, {2.5}}, "int32")
    refuses("tensor: inf does not fit in an Int32 tensor", cnn.tensor, math.huge, "int32")
    local msg = helpers.error_message(cnn.tensor, {nan}, "int32")
    assert.matches("^tensor: %-?nan does not fit in an Int32 tensor", msg)
  end)

  it("refuse in fill, set and setindex, leaving the tensor as it was", function()
    local t = cnn.zeros(2, 3, "int32")
    refuses("fill: -3000000000 does not fit in an Int32 tensor", cnn.core.fill, -3000000000, 2, "int32")
    refuses("fill: 0.5 does not fit in an Int32 tensor", t.fill, t, 0.5)
    refuses("set: 10000000000.0 does not fit in an Int32 tensor", t.set, t, 1, 2, 1e10)
    refuses("setindex: 4294967296 does not fit in an Int32 tensor",
      function() t[{1, 1}] = 1 << 32 end)
    refuses("setindex: -1.5 does not fit in an Int32 tensor", function() t[2] = -1.5 end)
    assert.are.same({{0, 0, 0}, {0, 0, 0}}, t:totable())
    t[{2, 3}] = 5.0
    assert.are.equal(5, t[{2, 3}])
  end)

  it("refuse a Float32 tensor with an element that does not fit, naming it", function()
    refuses("int: element 3 of the Float32 3-element tensor is 1.0000000200409e+20, "
      .. "which does not fit in an Int32 tensor", function() return cnn.tensor({1, 2, 1e20}):int() end)
    refuses("int: element 3 of the Float32 2×2 tensor is 1.5, which does not fit in an Int32 tensor",
      function() return cnn.tensor({{1, 1.5}, {3, 4}}):int() end)
    local t = cnn.zeros(3, "int32")
    refuses("copy: element 2 of the Float32 3-element tensor is -inf, which does not fit in an "
      .. "Int32 tensor", t.copy, t, cnn.tensor({1, -math.huge, 3}))
    refuses("setindex: element 1 of the Float32 0-dim tensor is 0.25, which does not fit in an "
      .. "Int32 tensor", function() t[{1}] = cnn.tensor(0.25) end)
    assert.are.same({0, 0, 0}, t:totable())
    assert.are.same({1, -2, 3}, cnn.tensor({1, -2, 3}):int():totable())
    assert.are.same({1, -2, 3}, t:copy(cnn.tensor({1, -2, 3})):totable())
  end)
end)

describe("DataLoader batchsize", function()
  local x, y = cnn.rand(3, 10), cnn.rand(2, 10)

  local function pass(loader)
    local batches, seen = 0, 0
    for xb, yb in loader do
      batches, seen = batches + 1, seen + xb:size(2)
      assert.are.equal(xb:size(2), yb:size(2))
    end
    return batches, seen
  end

  it("above the number of observations gives one batch of them all, as Flux", function()
    for _, bs in ipairs({10, 11, math.maxinteger}) do
      for _, partial in ipairs({true, false}) do
        local loader = cnn.DataLoader(x, y, {batchsize = bs, partial = partial})
        assert.are.equal(1, #loader)
        assert.are.same({1, 10}, {pass(loader)})
        assert.are.equal("DataLoader({3×10, 2×10}, batchsize=10"
          .. (partial and "" or ", partial=false") .. ") with 1 batch", tostring(loader))
      end
    end
  end)

  it("counts batches without overflow, the last short one kept or dropped", function()
    assert.are.same({4, 10}, {pass(cnn.DataLoader(x, y, {batchsize = 3}))})
    assert.are.same({3, 9}, {pass(cnn.DataLoader(x, y, {batchsize = 3, partial = false}))})
    local empty = cnn.DataLoader(cnn.rand(3, 0), {batchsize = math.maxinteger})
    assert.are.equal(0, #empty)
    assert.are.same({0, 0}, {pass(empty)})
  end)

  it("must be a positive integer", function()
    local function refused(bs, got)
      assert.are.equal("DataLoader: batchsize must be a positive integer, got " .. got,
        helpers.error_message(cnn.DataLoader, x, {batchsize = bs}))
    end
    refused(0, "0")
    refused(-1, "-1")
    refused(math.mininteger, tostring(math.mininteger))
    refused(1.5, "1.5")
    refused(2.0 ^ 63, tostring(2.0 ^ 63))
    refused(nan, tostring(nan))
    refused("128", '"128" (a string)')
    refused({}, "a table")
  end)
end)
