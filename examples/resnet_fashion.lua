-- A small ResNet on Fashion-MNIST: residual blocks with batch
-- normalisation, built from SkipConnection, BatchNorm and GlobalMeanPool.
--
--   build/cnnlua examples/resnet_fashion.lua [epochs [images [batchsize [test_images]]]]
--
-- epochs: passes over the training set (EPOCHS below by default). images:
-- train on the first N of the 60,000 training images only, and
-- test_images: test on the first N of the 10,000 test images only (a quick
-- smoke run). batchsize: images per training step (128 by default). A
-- smoke run wants small batches: BatchNorm's running statistics, which the
-- test uses, start at mean 0 and variance 1 and need some 60 steps to
-- forget it.
--
-- Measured once on the whole training set with the default 5 epochs (the
-- last at a tenth of the learning rate), on a 2-core machine
-- shared with other builds (load average between 2 and 20): test accuracy
-- 0.9130, wall time 21 min 20 s (`time`: 12 min 57 s user, 47 s system;
-- the passes took 160 s to 413 s as the load varied). The same recipe for
-- 3 epochs gave 0.8962.

local cnn = require "cnn"

local EPOCHS = 5
local epochs = math.tointeger(tonumber(arg and arg[1] or tostring(EPOCHS)))
local subset = math.tointeger(tonumber(arg and arg[2] or "0"))
local batchsize = math.tointeger(tonumber(arg and arg[3] or "128"))
local test_subset = math.tointeger(tonumber(arg and arg[4] or "0"))
local usage = "usage: resnet_fashion.lua [epochs >= 1 [images >= 0 [batchsize >= 1 [test_images >= 0]]]]"
assert(epochs and epochs >= 1, usage)
assert(subset and subset >= 0, usage)
assert(batchsize and batchsize >= 1, usage)
assert(test_subset and test_subset >= 0, usage)
cnn.seed(1)

-- The data: 28×28 grey pictures of clothes, ten classes, labels 0 to 9.
local FashionMNIST = cnn.datasets.FashionMNIST
local classes = cnn.range(0, 9)
local X = FashionMNIST.images():reshape(28, 28, 1, -1)   -- 28×28×1×60000, in [0, 1]
local Y = cnn.onehotbatch(FashionMNIST.labels(), classes) -- 10×60000
if subset > 0 and subset < X:size(4) then
  X, Y = X:narrow(4, 1, subset), Y:narrow(2, 1, subset)
end
local tX = FashionMNIST.images("test"):reshape(28, 28, 1, -1)      -- 28×28×1×10000
local tlabels = FashionMNIST.labels("test")                       -- 10000 labels 0..9
if test_subset > 0 and test_subset < tX:size(4) then
  tX, tlabels = tX:narrow(4, 1, test_subset), tlabels:narrow(1, 1, test_subset)
end
cnn.show("X:size()", X:size())
cnn.show("tX:size()", tX:size())
print("class 1 is " .. FashionMNIST.classes[1] .. ", class 10 is " .. FashionMNIST.classes[10])

-- A residual block: two 3×3 convolutions that keep the size, each
-- followed by batch normalisation, added to the block's input, then relu.
-- SkipConnection(layer) computes layer(x) + x (Flux's SkipConnection(layer,
-- +); a function(fx, x) as second argument combines them otherwise). The
-- convolutions have no bias: the BatchNorm after each has its own shift.
local function block(channels)
  local body = cnn.Chain(
    cnn.Conv({3, 3}, channels, channels, {pad = 1, bias = false}), cnn.BatchNorm(channels, cnn.relu),
    cnn.Conv({3, 3}, channels, channels, {pad = 1, bias = false}), cnn.BatchNorm(channels))
  return cnn.Chain(cnn.SkipConnection(body), cnn.relu)
end

-- The network, its parts named (model.stem, model.block1, ..., model.head):
-- 28×28×1 → stem 28×28×32 → two blocks → pool 14×14×32 → one block
-- → global mean 1×1×32 → 10 scores (logits: the loss applies softmax).
local function build()
  return cnn.Chain(
    {stem = cnn.Chain(cnn.Conv({3, 3}, 1, 32, {pad = 1, bias = false}), cnn.BatchNorm(32, cnn.relu))},
    {block1 = block(32)},
    {block2 = block(32)},
    {pool = cnn.MaxPool({2, 2})},
    {block3 = block(32)},
    {head = cnn.Chain(cnn.GlobalMeanPool(), cnn.flatten, cnn.Dense(32, 10))})
end
local model = build()
print(model)
cnn.show("cnn.outputsize(model, {28, 28, 1, 1})", cnn.outputsize(model, {28, 28, 1, 1}))

-- Training: logit cross-entropy, ADAM, batches shuffled anew each pass.
-- While a gradient is taken, each BatchNorm normalises with the statistics
-- of its batch and updates its running statistics. The last pass runs at
-- a tenth of the learning rate, which settles the weights.
local function loss(x, y) return cnn.logitcrossentropy(model(x), y) end
local ps = cnn.params(model)
local loader = cnn.DataLoader(X, Y, {batchsize = batchsize, shuffle = true})
local opt = cnn.ADAM(1e-3)
for epoch = 1, epochs do
  if epoch == epochs and epochs > 1 then opt.eta = opt.eta / 10 end
  cnn.train(loss, ps, loader, opt)
end

-- Evaluation in test mode: each BatchNorm uses its running statistics, so
-- a picture's class does not depend on the other pictures of its batch.
-- (cnn.accuracy switches to test mode by itself and back; a model used by
-- hand, as below, is switched with cnn.testmode.)
cnn.testmode(model)
print(("test accuracy = %.4f"):format(cnn.accuracy(model, tX, tlabels, classes)))
local first = cnn.onecold(model(tX:narrow(4, 1, 1)), classes)[1]
print(("the first test picture, %s, is taken for %s"):format(
  FashionMNIST.classes[tlabels[1] + 1], FashionMNIST.classes[first + 1]))
