-- Int8 inference: the MNIST notebook network trained in FP32, quantized
-- with cnn.quantize, and the two compared on the 10,000 test images:
-- accuracy, agreement and evaluation time.
--
--   build/cnnlua examples/quantize.lua [epochs [images]]
--
-- epochs: passes over the training set (1 by default). images: train on
-- the first N of the 60,000 training images only (a quick smoke run).
-- The times are the best of five evaluations each, taken in turn, so
-- that a busy machine slows both alike.

local cnn = require "cnn"

local epochs = math.tointeger(tonumber(arg and arg[1] or "1"))
local subset = math.tointeger(tonumber(arg and arg[2] or "0"))
assert(epochs and epochs >= 1, "usage: quantize.lua [epochs >= 1 [images]]")
assert(subset and subset >= 0, "usage: quantize.lua [epochs [images >= 1]]")
cnn.seed(5)

local MNIST = cnn.datasets.MNIST
local digits = cnn.range(0, 9)
local X = MNIST.images():reshape(28, 28, 1, -1)
local Y = cnn.onehotbatch(MNIST.labels(), digits)
if subset > 0 and subset < X:size(4) then
  X, Y = X:narrow(4, 1, subset), Y:narrow(2, 1, subset)
end
local tX = MNIST.images("test"):reshape(28, 28, 1, -1)
local test_labels = MNIST.labels("test")

-- The notebook's network, trained in FP32 as usual.
local model = cnn.Chain(
  cnn.Conv({3, 3}, 1, 16, cnn.relu, {pad = 1}), cnn.MaxPool({2, 2}),
  cnn.Conv({3, 3}, 16, 32, cnn.relu, {pad = 1}), cnn.MaxPool({2, 2}),
  cnn.Conv({3, 3}, 32, 32, cnn.relu, {pad = 1}), cnn.MaxPool({2, 2}),
  function(x) return x:reshape(-1, x:size(4)) end,
  cnn.Dense(288, 10), cnn.softmax)
local loader = cnn.DataLoader(X, Y, {batchsize = 128, shuffle = true})
cnn.train(function(x, y) return cnn.crossentropy(model(x), y) end, cnn.params(model),
  cnn.ncycle(loader, epochs), cnn.ADAM())

-- Quantize: calibrate the activations' ranges on 1,000 training images.
local calibration = X:narrow(4, 1, math.min(1000, X:size(4)))
local qm = cnn.quantize(model, calibration)
print(qm)

-- The same questions to both models.
local function evaluate(m) return cnn.accuracy(m, tX, test_labels, digits) end
local best, accuracy = {}, {}
for _ = 1, 5 do
  for _, kind in ipairs({"fp32", "int8"}) do
    local start = cnn.wallclock()
    accuracy[kind] = evaluate(kind == "fp32" and model or qm)
    best[kind] = math.min(best[kind] or math.huge, cnn.wallclock() - start)
  end
end

local first = tX:narrow(4, 1, 1000)
local p32, p8 = model(first), qm(first)
local agree = cnn.core.sum(cnn.core.eq(cnn.core.onecold(p32), cnn.core.onecold(p8))) / 1000
local largest = cnn.core.maximum(cnn.core.abs(p32 - p8))

print(("test accuracy: FP32 %.4f, int8 %.4f (%+.2f points)")
  :format(accuracy.fp32, accuracy.int8, 100 * (accuracy.int8 - accuracy.fp32)))
print(("same class for %.1f%% of the first 1,000 test images; largest probability difference %.4f")
  :format(100 * agree, largest))
print(("evaluating 10,000 images: FP32 %.3f s, int8 %.3f s (%.2fx faster)")
  :format(best.fp32, best.int8, best.fp32 / best.int8))
