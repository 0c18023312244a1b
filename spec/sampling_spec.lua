-- Upsample, AdaptiveMaxPool, AdaptiveMeanPool, Embedding and MeanPool's
-- count_include_pad: how they print, what they refuse and with which
-- message, how a model finds their parameters, and a steady training
-- step (their values against PyTorch: sampling_fixture_spec.lua).
local cnn = require "cnn"
local core = cnn.core

local function message(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok)
  return (tostring(err):gsub("^[^:]*:%d+: ", ""))
end

describe("the layers of resampling, adaptive pooling and embedding", function()
  it("print as Flux's", function()
    assert.equal("Upsample(:nearest, scale = 2)", tostring(cnn.Upsample("nearest", {scale = 2})))
    assert.equal("Upsample(:nearest, scale = 2)", tostring(cnn.Upsample({scale = 2})))
    assert.equal("Upsample(:bilinear, scale = (2, 3))", tostring(cnn.Upsample("bilinear", {scale = {2, 3}})))
    assert.equal("Upsample(:bilinear, size = (28, 14))", tostring(cnn.Upsample("bilinear", {size = {28, 14}})))
    assert.equal("Upsample(:bilinear, scale = 1.5)", tostring(cnn.Upsample("bilinear", {scale = 1.5})))
    assert.equal("Upsample(:bilinear, scale = (1.5, 2))", tostring(cnn.Upsample("bilinear", {scale = {1.5, 2}})))
    assert.equal("AdaptiveMaxPool((5, 3))", tostring(cnn.AdaptiveMaxPool({5, 3})))
    assert.equal("AdaptiveMeanPool((1, 1))", tostring(cnn.AdaptiveMeanPool({1, 1})))
    assert.equal("Embedding(10 => 4)", tostring(cnn.Embedding(10, 4)))
    assert.equal("Embedding(10 => 4)", tostring(cnn.Embedding({10, 4})))
    assert.equal("MeanPool((3, 3), pad=1, stride=1, count_include_pad=false)",
      tostring(cnn.MeanPool(3, {pad = 1, stride = 1, count_include_pad = false})))
    assert.equal("MeanPool((2, 2))", tostring(cnn.MeanPool(2, {count_include_pad = true})))
  end)

  it("refuse constructor arguments naming the layer, what was given and what is valid", function()
    assert.equal('Upsample: mode must be one of "nearest", "bilinear", got "cubic"',
      message(cnn.Upsample, "cubic", {scale = 2}))
    assert.equal('Upsample: unknown option "scales" (valid options: scale, size)',
      message(cnn.Upsample, "nearest", {scales = 2}))
    assert.equal("Upsample: give either scale or size, not both: "
      .. "Upsample(mode, {scale = s} or {size = {W, H}})",
      message(cnn.Upsample, "nearest", {scale = 2, size = {4, 4}}))
    assert.equal("Upsample: the options give neither scale nor size: "
      .. "Upsample(mode, {scale = s} or {size = {W, H}})", message(cnn.Upsample, "bilinear", {}))
    assert.equal("Upsample: expected an options table with scale or size: "
      .. "Upsample(mode, {scale = s} or {size = {W, H}}); got 2", message(cnn.Upsample, "nearest", 2))
    assert.equal("Upsample: scale must be a positive integer or a table of 2 positive integers, got 1.5",
      message(cnn.Upsample, "nearest", {scale = 1.5}))
    assert.equal("Upsample: scale must be a positive number or a table of 2 positive numbers, got {1.5, 0}",
      message(cnn.Upsample, "bilinear", {scale = {1.5, 0}}))
    assert.equal("Upsample: scale must be a positive number or a table of 2 positive numbers, got inf",
      message(cnn.Upsample, "bilinear", {scale = math.huge}))
    assert.equal("Upsample: size must be a table of 2 positive integers {W', H'}, got 4",
      message(cnn.Upsample, "bilinear", {size = 4}))
    assert.equal("AdaptiveMeanPool: out must be a table of 2 positive integers {W', H'}, got 3",
      message(cnn.AdaptiveMeanPool, 3))
    assert.equal("AdaptiveMaxPool: out must be a positive integer or a table of 2 positive integers, got {0, 2}",
      message(cnn.AdaptiveMaxPool, {0, 2}))
    assert.equal("AdaptiveMaxPool: expected at most 1 argument (out), got 2",
      message(cnn.AdaptiveMaxPool, {2, 2}, {}))
    assert.equal("Embedding: in must be a positive integer, got 0", message(cnn.Embedding, 0, 3))
    assert.equal("Embedding: unknown option \"bias\" (valid options: init)",
      message(cnn.Embedding, 5, 3, {bias = false}))
    assert.equal("MeanPool: count_include_pad must be true or false, got 0",
      message(cnn.MeanPool, 2, {count_include_pad = 0}))
    assert.equal('MaxPool: unknown option "count_include_pad" (valid options: pad, stride)',
      message(cnn.MaxPool, 2, {count_include_pad = false}))
  end)

  it("refuse inputs they do not take, naming the layer", function()
    assert.equal("Upsample(:nearest, size = (7, 8)): nearest upsampling to 7×8 needs an input "
      .. "whose W and H divide them, got 2×2×1×1",
      message(cnn.Upsample("nearest", {size = {7, 8}}), core.rand(2, 2, 1, 1)))
    assert.equal("Upsample(:bilinear, scale = 2): input has 2 dimensions (3×4), expected 4 (W×H×C×N)",
      message(cnn.Upsample("bilinear", {scale = 2}), core.rand(3, 4)))
    assert.equal("Upsample(:bilinear, scale = 0.25): input 3×8×1×1 gives an output of 0×2, no pixels",
      message(cnn.Upsample("bilinear", {scale = 0.25}), core.rand(3, 8, 1, 1)))
    assert.same({4, 2, 1, 1}, cnn.Upsample("bilinear", {scale = 0.5})(core.rand(8, 5, 1, 1)):size())
    assert.equal("AdaptiveMaxPool((2, 2)): input 0×3×1×1 has no pixels to pool",
      message(cnn.AdaptiveMaxPool({2, 2}), core.rand(0, 3, 1, 1)))
    local emb = cnn.Embedding(5, 3)
    -- elements counted in storage order, column by column, as Julia's linear indices
    assert.equal("Embedding(5 => 3): index 6 (element 2 of the indices) is out of 1..5",
      message(emb, cnn.tensor{{1, 2}, {6, 5}}:int()))
    assert.equal("Embedding(5 => 3): index 0 (element 1 of the indices) is out of 1..5",
      message(emb, cnn.tensor{0}:int()))
    assert.equal("Embedding(5 => 3): index 9 is out of 1..5", message(emb, 9))
    assert.equal("Embedding(5 => 3): a Float32 input is a one-hot matrix of 5 rows (5×N), "
      .. "got 3×2; indices are Int32 (x:int())", message(emb, core.rand(3, 2)))
    assert.equal("Embedding(5 => 3): expected a tensor, got string (Int32 indices, or a one-hot "
      .. "Float32 matrix), or an integer", message(emb, "2"))
  end)

  it("refuse bad arguments of the core functions, naming them", function()
    assert.equal("resample: nearest resampling needs output sizes that are whole multiples "
      .. "of the input's: 5×4 from 2×2×1×1", message(core.resample, "nearest", core.rand(2, 2, 1, 1), {5, 4}))
    assert.equal("resample: size must be a table of 2 positive integers {W, H}",
      message(core.resample, "bilinear", core.rand(2, 2, 1, 1), {5}))
    assert.equal("resample_backward: gradient is 3×3×1×2, bilinear resampling of 2×2×1×1 gives 3×3×1×1",
      message(core.resample_backward, "bilinear", core.rand(3, 3, 1, 2), {2, 2, 1, 1}))
    assert.equal("adaptive_pool2d_backward: gradient is 2×2×1×1, output of input 4×4×2×1 is 2×2×2×1",
      message(core.adaptive_pool2d_backward, "max", core.rand(2, 2, 1, 1), core.rand(4, 4, 2, 1)))
    assert.equal("embedding: bad argument #2 to 'embedding' (Int32 tensor expected, got Float32)",
      message(cnn.embedding, core.rand(3, 4), cnn.tensor{1, 2}))
  end)

  it("give a vector for an integer and weight * x for a one-hot matrix", function()
    local emb = cnn.Embedding(5, 3)
    assert.same({3}, emb(4):size())
    assert.is_true(emb(4):isapprox(emb.weight:slice(2, 4, 4):reshape(3)))
    local onehot = cnn.onehotbatch(cnn.tensor{2, 5, 2}:int(), cnn.range(1, 5))
    assert.is_true(emb(onehot):isapprox(emb(cnn.tensor{2, 5, 2}:int())))
  end)

  it("run oneDNN's pooling when the sizes divide, the same as MaxPool and MeanPool", function()
    local x = core.rand(8, 6, 3, 2)
    assert.is_true(cnn.AdaptiveMaxPool({4, 2})(x):isapprox(cnn.MaxPool({2, 3})(x)))
    assert.is_true(cnn.AdaptiveMeanPool({4, 2})(x):isapprox(cnn.MeanPool({2, 3})(x)))
    assert.is_true(cnn.AdaptiveMeanPool({1, 1})(x):isapprox(cnn.GlobalMeanPool()(x)))
  end)

  it("read a convolution's blocked output as it is, with the plain input's results", function()
    local conv, x = cnn.Conv({3, 3}, 2, 16, cnn.relu, {pad = 1}), core.rand(6, 6, 2, 2)
    local plain = core.clone(conv(x))
    assert.equal("plain", core.layout(plain))
    for _, l in ipairs{cnn.Upsample("bilinear", {scale = 2}), cnn.Upsample("nearest", {scale = 2}),
                       cnn.AdaptiveMaxPool({4, 4}), cnn.AdaptiveMeanPool({5, 4})} do
      local y = conv(x)
      assert.is_true(l(y):isapprox(l(plain)), tostring(l))
      assert.equal("blocked", core.layout(y), tostring(l))
      local r = core.rand(l(plain):size())
      local g = cnn.gradient(function(a) return cnn.sum(l(a) * r) end, y)
      local want = cnn.gradient(function(a) return cnn.sum(l(a) * r) end, plain)
      assert.is_true(g:isapprox(want), tostring(l))
    end
    -- the backwards of the core's own loops read a blocked input or gradient too
    local y = conv(x)
    local gy = core.rand(4, 3, 16, 2)
    for _, kind in ipairs{"max", "mean"} do
      local want = core.adaptive_pool2d_backward(kind, gy, plain)
      assert.is_true(core.adaptive_pool2d_backward(kind, gy, y):isapprox(want), kind)
      assert.equal("blocked", core.layout(y))
    end
    local gb = conv(core.rand(6, 6, 2, 2))
    assert.is_true(core.resample_backward("bilinear", gb, {3, 3, 16, 2})
      :isapprox(core.resample_backward("bilinear", core.clone(gb), {3, 3, 16, 2})))
  end)

  it("are found by params, summary, savemodel and loadmodel", function()
    local function model()
      return cnn.Chain(cnn.Embedding(6, 4), function(x) return x:reshape(4, 1, 1, -1) end,
        cnn.Upsample("bilinear", {scale = 2}), cnn.AdaptiveMeanPool({3, 1}), cnn.flatten, cnn.Dense(3, 2))
    end
    local m = model()
    local ps = cnn.params(m)
    assert.equal(3, #ps)
    assert.equal(m[1].weight, ps[1])
    local x = cnn.tensor{1, 6, 3}:int()
    assert.same({2, 3}, m(x):size())
    local path = os.tmpname()
    cnn.savemodel(path, m)
    local copy = cnn.loadmodel(path, model())
    os.remove(path)
    assert.is_true(copy(x):isapprox(m(x)))
    -- summary makes a Float32 input: a one-hot matrix for an Embedding
    assert.matches("Embedding%(6 => 4%)%s+4×3%s+24", cnn.summary(cnn.Chain(cnn.Embedding(6, 4)), {6, 3}))
  end)

  it("train in a steady state: no new primitive, the same allocations every step", function()
    cnn.seed(3)
    local m = cnn.Chain(cnn.Conv({3, 3}, 1, 4, cnn.relu, {pad = 1}), cnn.Upsample("bilinear", {scale = 2}),
      cnn.AdaptiveMaxPool({5, 5}), cnn.Upsample("nearest", {scale = 2}), cnn.AdaptiveMeanPool({3, 3}),
      cnn.MeanPool(2, {pad = 1, count_include_pad = false}), cnn.flatten, cnn.Dense(16, 3))
    local x, y = core.rand(6, 6, 1, 2), cnn.onehotbatch({0, 2}, cnn.range(0, 2))
    local ps, opt = cnn.params(m), cnn.ADAM()
    local function step()
      cnn.update(opt, ps, cnn.gradient(function() return cnn.logitcrossentropy(m(x), y) end, ps))
    end
    step()
    local second = cnn.profile_report(step)
    local third = cnn.profile_report(step)
    assert.equal(0, second.primitives_created)
    assert.equal(0, third.primitives_created)
    assert.equal(second.tensor_allocations, third.tensor_allocations)
  end)
end)
