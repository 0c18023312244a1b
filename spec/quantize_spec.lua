-- cnn.quantize: int8 inference of a trained model, against the FP32
-- model it came from (the notebook network trained briefly here on an
-- MNIST slice, and small models of every supported layer).
local cnn = require "cnn"
local core = cnn.core
local helpers = require "helpers"

local MNIST = cnn.datasets.MNIST
local digits = cnn.range(0, 9)

-- The notebook network after 300 steps of Adam on 19,200 training
-- images (about 96% test accuracy), made once.
local trained
local function notebook()
  if trained then return trained end
  cnn.seed(11)
  local model = helpers.notebook_model()
  local x = MNIST.images():reshape(28, 28, 1, -1):narrow(4, 1, 19200)
  local y = cnn.onehotbatch(MNIST.labels():narrow(1, 1, 19200), digits)
  local loader = cnn.DataLoader(x, y, {batchsize = 64, shuffle = true})
  cnn.train(function(a, b) return cnn.crossentropy(model(a), b) end, cnn.params(model), loader,
    cnn.Adam(), {progress = false})
  local calibration = MNIST.images():reshape(28, 28, 1, -1):narrow(4, 30001, 1000)
  trained = {model = model, qm = cnn.quantize(model, calibration)}
  return trained
end

local function test_slice(n)
  return MNIST.images("test"):reshape(28, 28, 1, -1):narrow(4, 1, n),
    MNIST.labels("test"):narrow(1, 1, n)
end

local function largest_difference(a, b)
  return core.maximum(core.abs(core.sub(a, b)))
end

-- The fraction of columns whose largest entries are in the same row.
local function argmax_agreement(a, b)
  return core.sum(core.eq(core.onecold(a), core.onecold(b))) / a:size(2)
end

describe("cnn.quantize on the notebook network", function()
  it("gives probabilities close to the FP32 model's, the same class for 99% of images", function()
    local t = notebook()
    local x = test_slice(1000)
    local p32, p8 = t.model(x), t.qm(x)
    assert.same(p32:size(), p8:size())
    assert.is_true(largest_difference(p32, p8) < 0.1)
    assert.is_true(core.mean(core.abs(core.sub(p32, p8))) < 1e-3)
    assert.is_true(argmax_agreement(p32, p8) >= 0.99)
    -- probabilities: each column sums to 1
    assert.is_true(largest_difference(core.sum(p8, 1), core.ones(1, 1000)) < 1e-5)
  end)

  it("has a test accuracy within half a point of FP32's on 1,000 images", function()
    local t = notebook()
    local x, labels = test_slice(1000)
    local a32 = cnn.accuracy(t.model, x, labels, digits)
    local a8 = cnn.accuracy(t.qm, x, labels, digits)
    assert.is_true(a32 > 0.9, "the FP32 model is trained: " .. a32)
    assert.is_true(math.abs(a8 - a32) <= 0.005, ("int8 %.4f, FP32 %.4f"):format(a8, a32))
  end)

  it("gives the FP32 model's sizes for batches of 1, 7, 256 and 300 images, sample by sample alike", function()
    local t = notebook()
    local x = test_slice(300)
    local whole = t.qm(x)
    assert.same({10, 300}, whole:size())
    for _, n in ipairs({1, 7, 256, 300}) do
      local part = x:narrow(4, 1, n)
      local y = t.qm(part)
      assert.same(t.model(part):size(), y:size())
      assert.is_true(largest_difference(y, whole:narrow(2, 1, n)) < 1e-6)
    end
    -- one slice size and its shorter last slice: slicing changes nothing
    t.qm.evalchunk = 0
    assert.is_true(largest_difference(t.qm(x), whole) < 1e-6)
    t.qm.evalchunk = nil
  end)

  it("keeps a few plans and creates no primitive for sizes it has seen", function()
    local t = notebook()
    local x = test_slice(64)
    t.qm(x)
    local before = core.stats().primitives_created
    for _ = 1, 3 do t.qm(x) end
    assert.equal(before, core.stats().primitives_created)
    for n = 1, 6 do t.qm(x:narrow(4, 1, n)) end
    local _, plans = core.qnet_info(t.qm.net)
    assert.equal(4, plans)
  end)

  it("serves cnn.confusion", function()
    local t = notebook()
    local x, labels = test_slice(500)
    local counts, per_class = cnn.confusion(t.qm, x, labels, digits)
    assert.equal(500, core.sum(counts))
    local diagonal = 0
    for i = 1, 10 do diagonal = diagonal + counts[i][i] end
    assert.near(cnn.accuracy(t.qm, x, labels, digits), diagonal / 500, 1e-9)
    assert.same({10}, per_class:size())
  end)

  it("prints its layers with their int8 types and ranges", function()
    local text = tostring(notebook().qm)
    assert.matches("^QuantizedModel%(int8; max%-abs ranges of 1000 calibration images%):", text)
    assert.matches("input%s+# u8 %[0, 1%]", text)
    assert.matches("Conv%(%(3, 3%), 1 => 16, relu, pad=1%)%s+# s8 weights per channel, u8 %[0, ", text)
    assert.matches("MaxPool%(%(2, 2%)%)%s+# u8", text)
    assert.matches("Dense%(288 => 10%)%s+# s8 weights per channel, Float32", text)
    assert.matches("softmax%s+# Float32$", text)
  end)

  it("has help, that of cnn.quantize", function()
    local help = require "cnn.help"
    assert.equal(help.text(cnn.quantize), help.text(notebook().qm))
    assert.matches("^quantize%(model, calibration_images %[, opts%]%)", help.text(notebook().qm))
  end)

  it("is inference-only: params, gradient and train refuse it", function()
    local t = notebook()
    local x, labels = test_slice(8)
    local y = cnn.onehotbatch(labels, digits)
    local msg = helpers.error_message(cnn.params, t.qm)
    assert.matches("^params: a QuantizedModel is inference%-only", msg)
    msg = helpers.error_message(cnn.gradient, function() return cnn.sum(t.qm(x)) end, cnn.params(t.model))
    assert.matches("QuantizedModel: a QuantizedModel is inference%-only", msg)
    msg = helpers.error_message(cnn.train, function(a, b) return cnn.crossentropy(t.qm(a), b) end,
      cnn.params(t.model), {{x, y}}, cnn.Descent(0.1), {progress = false})
    assert.matches("inference%-only", msg)
  end)

  it("keeps its own weights: training the FP32 model on does not change it", function()
    local t = notebook()
    local x = test_slice(16)
    local before = t.qm(x)
    local w = t.model[1].weight
    local saved = w:clone()
    w:copy(core.zeros(w:size()))
    local after = t.qm(x)
    w:copy(saved)
    assert.is_true(largest_difference(before, after) == 0)
  end)
end)

-- A model of layers of every supported kind, with random weights, on
-- random images; its quantized outputs against the FP32 ones.
local function compare(model, x, calibration, tol, opts)
  local qm = cnn.quantize(model, calibration or x, opts)
  local y32 = cnn.testmode(model)(x)
  local y8 = qm(x)
  assert.same(y32:size(), y8:size())
  local scale = core.maximum(core.abs(y32))
  local err = largest_difference(y32, y8) / scale
  assert.is_true(err < tol, ("largest difference %.4g of the largest output %.4g"):format(err * scale, scale))
  return qm, y32, y8
end

describe("cnn.quantize on each supported layer", function()
  before_each(function() cnn.seed(7) end)

  it("folds a BatchNorm and its relu into the Conv before it, and a relu function too", function()
    local bn = cnn.BatchNorm(8, cnn.relu)
    local model = cnn.Chain(cnn.Conv({3, 3}, 3, 8, nil, {pad = 1}), bn, cnn.MaxPool(2),
      cnn.Conv({3, 3}, 8, 6), cnn.relu, cnn.flatten, cnn.Dense(6 * 2 * 2, 5))
    bn.running_mean = core.mul(core.randn(8), 0.3)
    bn.running_var = core.add(core.rand(8), 0.5)
    bn.gamma = core.add(core.rand(8), 0.5)
    bn.beta = core.mul(core.randn(8), 0.2)
    bn:set_mode("train") -- quantize leaves its running statistics alone
    local mean = bn.running_mean:clone()
    local qm = compare(model, core.rand(8, 8, 3, 40), nil, 0.03)
    assert.equal(0, largest_difference(mean, bn.running_mean))
    assert.equal("test", bn.mode) -- as cnn.testmode in compare set it
    assert.matches("Conv%(%(3, 3%), 3 => 8, pad=1%) %+ BatchNorm%(8, relu%)", tostring(qm))
    assert.matches("Conv%(%(3, 3%), 8 => 6%) %+ relu", tostring(qm))
  end)

  it("runs grouped and depthwise convolutions, strides, mean pooling, s8 activations and nested Chains", function()
    local model = cnn.Chain(
      cnn.Conv({3, 3}, 4, 8, nil, {pad = 1, groups = 2}),
      cnn.Chain(cnn.DepthwiseConv({3, 3}, 8, 16, cnn.relu, {stride = 2}), cnn.Dropout(0.5)),
      cnn.MeanPool(2, {pad = 1, count_include_pad = false}),
      cnn.Flatten(), cnn.Dense(16 * 3 * 3, 12, cnn.relu), cnn.Dense(12, 6), cnn.softmax)
    local x = core.sub(core.mul(core.rand(11, 11, 4, 33), 2), 1) -- signed input: s8
    local qm = compare(model, x, nil, 0.02)
    local text = tostring(qm)
    assert.matches("input%s+# s8 %[%-", text)
    assert.matches("groups=2%)%s+# s8 weights per channel, s8 %[%-", text)
    assert.matches("Dense%(144 => 12, relu%)%s+# s8 weights per channel, u8", text)
  end)

  it("max-pools s8 activations, with windows that overlap or leave pixels out", function()
    local model = cnn.Chain(cnn.Conv({3, 3}, 2, 5, nil, {pad = 1}), cnn.MaxPool(3, {stride = 2}),
      cnn.Conv({1, 1}, 5, 3, cnn.relu), cnn.MaxPool(2), cnn.flatten, cnn.Dense(3 * 2 * 2, 4))
    local x = core.sub(core.mul(core.rand(10, 9, 2, 21), 2), 1)
    local qm = compare(model, x, nil, 0.02)
    assert.matches("MaxPool%(%(3, 3%), stride=2%)%s+# s8", tostring(qm))
  end)

  it("takes features×N through Dense layers", function()
    local model = cnn.Chain(cnn.Dense(20, 32, cnn.relu), cnn.Dense(32, 4))
    compare(model, core.randn(20, 50), nil, 0.03)
  end)

  it("calibrates on a percentile of the magnitudes when asked", function()
    local model = cnn.Chain(cnn.Conv({3, 3}, 1, 4, cnn.relu), cnn.flatten, cnn.Dense(36, 3))
    local x = core.rand(5, 5, 1, 64)
    local qm = compare(model, x, nil, 0.05, {percentile = 99.9, batchsize = 16})
    assert.matches("99.9%% ranges of 64 calibration images", tostring(qm))
    local full = cnn.quantize(model, x)
    assert.is_true(qm.steps[1].range.max <= full.steps[1].range.max)
  end)
end)

describe("cnn.quantize refuses", function()
  local x = core.rand(6, 6, 1, 4)
  local function refused(model, images, opts)
    return helpers.error_message(cnn.quantize, model, images or x, opts)
  end

  it("layers it cannot quantize, naming them and what is supported", function()
    local msg = refused(cnn.Chain(cnn.Conv({3, 3}, 1, 2), cnn.LayerNorm(4), cnn.flatten, cnn.Dense(32, 2)))
    assert.matches("^quantize: Chain layer 2, LayerNorm%(4%)", msg)
    assert.matches("cannot be quantized; supported: Conv and DepthwiseConv", msg)
    msg = refused(cnn.Chain(cnn.Conv({3, 3}, 1, 2, cnn.sigmoid), cnn.flatten, cnn.Dense(32, 2)))
    assert.matches("^quantize: Chain layer 1, Conv%(%(3, 3%), 1 => 2, sigmoid%): its activation sigmoid", msg)
    msg = refused(cnn.Chain(cnn.Conv({3, 3}, 1, 2, cnn.relu), cnn.BatchNorm(2), cnn.flatten, cnn.Dense(32, 2)))
    assert.matches("^quantize: Chain layer 2, BatchNorm%(2%): it follows Conv", msg)
    msg = refused(cnn.Chain(cnn.Conv({3, 3}, 1, 2), cnn.softmax, cnn.flatten, cnn.Dense(32, 2)))
    assert.matches("^quantize: Chain layer 2, softmax: a softmax must be the last layer", msg)
    msg = refused(cnn.Chain(cnn.Conv({3, 3}, 1, 2), cnn.MaxPool(2), cnn.softmax))
    assert.matches("^quantize: Chain layer 3: a softmax is supported right after the last Dense only", msg)
    msg = refused(cnn.Chain(cnn.Conv({3, 3}, 1, 2), function(a) return cnn.flatten(a) * 2 end, cnn.Dense(32, 2)))
    assert.matches("^quantize: Chain layer 2, function %(.-%): a function must reshape W×H×C×N to features×N", msg)
    msg = refused(cnn.Chain(cnn.MaxPool(2), cnn.flatten))
    assert.equal("quantize: the model has no Conv or Dense layer to quantize", msg)
  end)

  it("arguments it does not take", function()
    local model = cnn.Chain(cnn.Conv({3, 3}, 1, 2), cnn.flatten, cnn.Dense(32, 2))
    assert.matches("^quantize: model must be a Chain or a layer, got 3", refused(3))
    assert.matches("^quantize: calibration_images must be a Float32 tensor",
      refused(model, core.zeros(2, 2, 2, 2, 2):int()))
    assert.matches("^quantize: no calibration images", refused(model, core.zeros(6, 6, 1, 0)))
    assert.matches("^quantize: percentile must be", refused(model, x, {percentile = 0}))
    assert.matches("^quantize: unknown option \"bits\" %(valid options: batchsize, percentile%)",
      refused(model, x, {bits = 4}))
    assert.matches("^quantize: the model does not take the calibration images: Chain layer 1",
      refused(model, core.rand(6, 6, 3, 2)))
    assert.matches("^quantize: the model is quantized already", refused(cnn.quantize(model, x)))
    local loop = cnn.Chain(cnn.Conv({3, 3}, 1, 2))
    loop.layers[2] = loop
    assert.matches("^quantize: the model contains itself: m%[2%] is m", refused(loop))
    local bad = core.rand(6, 6, 1, 4)
    bad[1][1][1][1] = 0 / 0
    assert.matches("^quantize: the calibration images: an element is NaN or infinite", refused(model, bad))
  end)

  it("inputs of other sizes, naming the layer", function()
    local qm = cnn.quantize(cnn.Chain(cnn.Conv({3, 3}, 1, 2), cnn.flatten, cnn.Dense(32, 2)), x)
    assert.matches("^QuantizedModel: Chain layer 3, Dense%(32 => 2%): input has 50 features",
      helpers.error_message(qm, core.rand(7, 7, 1, 2)))
    assert.matches("^QuantizedModel: Chain layer 1, Conv%(%(3, 3%), 1 => 2%): input has 2 channels",
      helpers.error_message(qm, core.rand(6, 6, 2, 2)))
    assert.matches("^QuantizedModel: input has 2 dimensions",
      helpers.error_message(qm, core.rand(6, 2)))
  end)
end)
