-- One of scripts/bench.d/cnnlua_models.lua's models in cnnlua, timed the
-- way scripts/bench times the PyTorch peer (scripts/bench.d/torch_side.py).
-- Prints one JSON line.
--   cnnlua scripts/bench.d/cnnlua_side.lua [steps] [threads] [model] [crop-flip] [int8] [bf16]
-- With crop-flip, the DataLoader augments every batch of images with
-- RandomCrop(28, {pad = 4}) and RandomFlip(); with bf16, training and
-- evaluation run in cnn.precision("bf16"). With int8, the trained model
-- is also quantized (cnn.quantize, calibrated on 1,000 training images)
-- and both are timed evaluating the test set with cnn.accuracy.
-- A model this build cannot make (the autoencoder without
-- cnn.ConvTranspose) is reported on stderr with exit status 3.
package.path = "scripts/bench.d/?.lua;" .. package.path
local cnn = require "cnn"
local models = require "cnnlua_models"

local steps = tonumber(arg[1] or "0")
local threads = tonumber(arg[2] or "2")
local name = arg[3] or "notebook"
local augment, precision, option = nil, "fp32", nil
for i = 4, #arg do
  if arg[i] == "crop-flip" then
    augment = arg[i]
  elseif arg[i] == "int8" then
    option = arg[i]
  elseif arg[i] == "bf16" or arg[i] == "fp32" then
    precision = arg[i]
  else
    io.stderr:write(("unknown option %q (known: crop-flip, int8, bf16, fp32)\n"):format(arg[i]))
    os.exit(2)
  end
end
cnn.core.threads(threads)
cnn.seed(0)

local now = cnn.core.monotime

if not models[name] then
  io.stderr:write(("unknown model %q\n"):format(name))
  os.exit(2)
end
local spec, why = models[name]()
if not spec then
  io.stderr:write(why, "\n")
  os.exit(3)
end
local model = spec.model

local X = cnn.datasets.MNIST.images("train"):reshape(28, 28, 1, -1)
local Y = X
if spec.target == "labels" then
  Y = cnn.onehotbatch(cnn.datasets.MNIST.labels("train"), cnn.range(0, 9))
end
local Xt = cnn.datasets.MNIST.images("test"):reshape(28, 28, 1, -1)

local ps = cnn.params(model)
local opt = cnn.ADAM(1e-3)
local loss = function(x, y) return spec.loss(model(x), y) end
local transform = augment and cnn.Compose(cnn.RandomCrop(28, {pad = 4}), cnn.RandomFlip()) or nil
local loader = cnn.DataLoader({X, Y}, {batchsize = 128, shuffle = true, transform = transform})

-- Trains and evaluates; returns the images trained and the three timings.
local function measure()
  local batches, images = 0, 0
  local start = now()
  for x, y in loader do
    local gs = cnn.gradient(function() return loss(x, y) end, ps)
    cnn.update(opt, ps, gs)
    batches, images = batches + 1, images + x:size(4)
    if steps > 0 and batches >= steps then break end
  end
  local train_seconds = now() - start

  cnn.testmode(model)
  start = now()
  model(Xt)
  local eval_one_batch = now() - start
  start = now()
  for i = 1, Xt:size(4), 1000 do
    model(Xt:slice(4, i, math.min(i + 999, Xt:size(4))))
  end
  return images, train_seconds, eval_one_batch, now() - start
end
local images, train_seconds, eval_one_batch, eval_batches = cnn.precision(precision, measure)

local function peak_rss_mib()
  for line in io.lines("/proc/self/status") do
    local kb = line:match("^VmHWM:%s+(%d+)")
    if kb then return tonumber(kb) / 1024 end
  end
end

-- FP32 against int8: cnn.accuracy on the 10,000 test images (batches of
-- 1000), the best of 5 runs each, interleaved so that both see the same
-- load on a shared machine.
local int8 = ""
if option == "int8" then
  local labels, digits = cnn.datasets.MNIST.labels("test"), cnn.range(0, 9)
  local start = now()
  local qm = cnn.quantize(model, X:narrow(4, 1, 1000))
  local quantize_seconds = now() - start
  local best = {fp32 = math.huge, int8 = math.huge}
  local accuracy = {}
  for _ = 1, 5 do
    for kind, m in pairs({fp32 = model, int8 = qm}) do
      start = now()
      accuracy[kind] = cnn.accuracy(m, Xt, labels, digits)
      best[kind] = math.min(best[kind], now() - start)
    end
  end
  int8 = (", \"quantize_seconds\": %.4f, \"fp32_accuracy_seconds\": %.4f, \"int8_accuracy_seconds\": %.4f, "
    .. "\"fp32_accuracy\": %.4f, \"int8_accuracy\": %.4f")
    :format(quantize_seconds, best.fp32, best.int8, accuracy.fp32, accuracy.int8)
end

print(("{\"side\": \"cnnlua\", \"precision\": \"%s\", \"images\": %d, \"train_seconds\": %.4f, "
  .. "\"images_per_second\": %.1f, "
  .. "\"eval_one_batch_seconds\": %.4f, \"eval_batches_of_1000_seconds\": %.4f, \"peak_rss_mib\": %.1f%s}")
  :format(precision, images, train_seconds, images / train_seconds, eval_one_batch, eval_batches, peak_rss_mib(), int8))
