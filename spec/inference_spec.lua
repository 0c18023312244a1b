-- Evaluation outside a gradient call: oneDNN's inference forwards (no
-- pooling workspace), cnn.isrecording, and a Chain taking a big batch
-- through its leading convolutions and poolings a slice at a time, with
-- the same result as the whole batch.
local cnn = require "cnn"
local core = cnn.core

local helpers = require "helpers"

local function notebook_model()
  cnn.seed(3)
  return helpers.notebook_model()
end

describe("inference", function()
  it("isrecording is true exactly inside a gradient call", function()
    assert.is_false(cnn.isrecording())
    local inside
    local w = core.ones(2)
    cnn.gradient(function()
      inside = cnn.isrecording()
      return cnn.sum(w)
    end, {w})
    assert.is_true(inside)
    assert.is_false(cnn.isrecording())
  end)

  it("conv2d and pool2d without training give the training results and no workspace", function()
    cnn.seed(1)
    local x, w, b = core.randn(7, 6, 3, 2), core.randn(3, 3, 3, 16), core.randn(16)
    local opts = {pad = 1, activation = "relu"}
    local trained = core.conv2d(x, w, b, opts)
    local inferred = core.conv2d(x, w, b, opts, false)
    assert.is_true(trained == inferred)
    local y1, ws1 = core.pool2d("max", trained, {window = 2})
    local y2, ws2 = core.pool2d("max", inferred, {window = 2}, false)
    assert.is_not_nil(ws1)
    assert.is_nil(ws2)
    assert.is_true(y1 == y2)
  end)

  it("a max pooling forward without training cannot feed a backward", function()
    local x = core.randn(4, 4, 2, 1)
    local y, ws = core.pool2d("max", x, {window = 2}, false)
    assert.has_error(function()
      core.pool2d_backward("max", core.ones(y:size()), x:size(), ws, {window = 2})
    end, "pool2d_backward: max pooling needs the workspace returned by pool2d (argument #4 is nil)")
  end)

  it("a Chain gives a big batch the result of the whole batch at once", function()
    local model = notebook_model()
    cnn.seed(5)
    local x = core.rand(28, 28, 1, 23)
    model.evalchunk = 0
    local whole = model(x)
    model.evalchunk = 5 -- slices of 5, 5, 5, 4, 4 images
    local sliced = model(x)
    assert.are.same({10, 23}, sliced:size())
    assert.is_true(whole == sliced)
  end)

  it("slices through BatchNorm in test mode, residual blocks, activations and global pools", function()
    cnn.seed(6)
    local function block(c)
      return cnn.SkipConnection(cnn.Chain(cnn.Conv({3, 3}, c, c, {pad = 1}), cnn.BatchNorm(c, cnn.relu),
        cnn.Conv({3, 3}, c, c, {pad = 1})))
    end
    local seen = 0
    local counted = cnn.Chain(cnn.Conv({3, 3}, 4, 4, {pad = 1}))
    local model = cnn.Chain(cnn.Conv({3, 3}, 1, 4, {pad = 1}), cnn.BatchNorm(4, cnn.relu), block(4), cnn.relu,
      cnn.Dropout(0.5), cnn.MaxPool({2, 2}), cnn.GroupNorm(4, 2), function(x) seen = seen + 1 return counted(x) end,
      cnn.GlobalMeanPool(), cnn.flatten, cnn.Dense(4, 3))
    local x = core.rand(8, 8, 1, 11)
    model.evalchunk = 0
    local whole = model(x)
    model.evalchunk = 3
    seen = 0
    local sliced = model(x)
    assert.is_true(whole == sliced)
    -- the layers before the user's function ran in slices, the rest whole
    assert.are.equal(1, seen)
    -- the same Chain without the function: sliced up to flatten
    local prefix = cnn.Chain(table.unpack(model.layers, 1, 7))
    prefix.evalchunk = 3
    local calls, pool = 0, prefix.layers[6]
    local forward = pool.forward
    pool.forward = function(self, y) calls = calls + 1 return forward(self, y) end
    prefix(x)
    assert.are.equal(4, calls) -- slices of 3, 3, 3 and 2 images
    -- while BatchNorm and Dropout are active, the layers from the first
    -- BatchNorm on see the whole batch
    cnn.trainmode(prefix)
    calls = 0
    prefix(x)
    assert.are.equal(1, calls)
  end)

  -- In a fresh process, whose Lua heap is small: without a collection
  -- after each slice, about 64 MB of slices would pile up before the
  -- first one, each in memory fresh from the system.
  it("a slice's memory serves the next slice", function()
    local host = os.getenv("CNNLUA") or "./build/cnnlua"
    local script = [[
      local cnn = require "cnn"
      local model = cnn.Chain(cnn.Conv({3, 3}, 1, 16, cnn.relu, {pad = 1}), cnn.MaxPool({4, 4}))
      model.evalchunk = 256
      local x = cnn.rand(28, 28, 1, 2560)
      local before = cnn.core.stats().system_bytes_allocated
      local y = model(x)
      print(y:size(4), (cnn.core.stats().system_bytes_allocated - before) / 2^20)
      cnn.core.collect_turnover()
      print(cnn.core.collect_turnover(), cnn.core.collect_turnover(), #cnn.zeros(4 * 2^20) > 0,
        cnn.core.collect_turnover())
    ]]
    local p = io.popen(("%s -e %s 2>&1"):format(helpers.quote(host), helpers.quote(script)))
    local out = p:read("a")
    p:close()
    local n, mb = out:match("^(%d+)%s+(%S+)\n")
    assert(n == "2560", out)
    -- a slice's convolution output is 12.25 MiB, the result 7.7 MiB
    assert(tonumber(mb) < 40, ("%s MiB from the system:\n%s"):format(mb, out))
    -- nothing allocated since a collection: none due; 16 MiB of tensors
    -- outweigh a heap of under 2 MiB 8 times: due
    assert.are.equal("false\tfalse\ttrue\ttrue\n", out:match("\n(.*)$"))
  end)

  it("a sliced Chain reports errors with the sizes of the whole batch", function()
    local model = notebook_model()
    model.evalchunk = 4
    assert.has_error(function() model(core.zeros(28, 28, 3, 10)) end,
      "Chain layer 1, Conv((3, 3), 1 => 16, relu, pad=1): input has 3 channels (28×28×3×10), expected 1")
    assert.has_error(function() model(core.zeros(20, 20, 1, 10)) end,
      "Chain layer 8, Dense(288 => 10): input has 128 features (128×10), expected 288")
  end)

  it("inside a gradient call the Chain runs the whole batch and records it", function()
    local model = notebook_model()
    model.evalchunk = 2
    local x = core.rand(28, 28, 1, 5)
    local y = cnn.onehotbatch({1, 2, 3, 4, 5}, cnn.range(0, 9))
    local ps = cnn.params(model)
    local gs = cnn.gradient(function() return cnn.crossentropy(model(x), y) end, ps)
    model.evalchunk = 0
    local reference = cnn.gradient(function() return cnn.crossentropy(model(x), y) end, ps)
    for _, p in ipairs(ps) do
      assert.is_true(gs[p] == reference[p])
    end
  end)
end)
