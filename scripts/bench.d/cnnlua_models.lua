-- The benchmark's models in cnnlua, each beside its PyTorch twin in
-- scripts/bench.d/torch_models.py. A model is {model = ..., loss =
-- function(yhat, y), target = "labels" or "images"}.
local cnn = require "cnn"

local models = {}

-- The MNIST notebook's network: three conv-relu-maxpool, dense, softmax.
function models.notebook()
  local model = cnn.Chain(
    cnn.Conv({3, 3}, 1, 16, cnn.relu, {pad = 1}), cnn.MaxPool({2, 2}),
    cnn.Conv({3, 3}, 16, 32, cnn.relu, {pad = 1}), cnn.MaxPool({2, 2}),
    cnn.Conv({3, 3}, 32, 32, cnn.relu, {pad = 1}), cnn.MaxPool({2, 2}),
    cnn.flatten, cnn.Dense(288, 10), cnn.softmax)
  return {model = model, loss = cnn.crossentropy, target = "labels"}
end

-- conv-BN-relu-conv-BN plus the input, then relu.
local function residual_block(c)
  return cnn.Chain(
    cnn.SkipConnection(cnn.Chain(
      cnn.Conv({3, 3}, c, c, {pad = 1, bias = false}), cnn.BatchNorm(c, cnn.relu),
      cnn.Conv({3, 3}, c, c, {pad = 1, bias = false}), cnn.BatchNorm(c))),
    cnn.relu)
end

-- A small BatchNorm ResNet: stem, two blocks at 28×28, max pool, one
-- block at 14×14, global mean pool, dense.
function models.resnet()
  local model = cnn.Chain(
    cnn.Conv({3, 3}, 1, 32, {pad = 1, bias = false}), cnn.BatchNorm(32, cnn.relu),
    residual_block(32), residual_block(32),
    cnn.MaxPool({2, 2}),
    residual_block(32),
    cnn.GlobalMeanPool(), cnn.flatten, cnn.Dense(32, 10))
  return {model = model, loss = cnn.logitcrossentropy, target = "labels"}
end

-- LeNet-5 with tanh and mean pooling.
function models.lenet()
  local model = cnn.Chain(
    cnn.Conv({5, 5}, 1, 6, cnn.tanh, {pad = 2}), cnn.MeanPool({2, 2}),
    cnn.Conv({5, 5}, 6, 16, cnn.tanh), cnn.MeanPool({2, 2}),
    cnn.flatten, cnn.Dense(400, 120, cnn.tanh), cnn.Dense(120, 84, cnn.tanh), cnn.Dense(84, 10))
  return {model = model, loss = cnn.logitcrossentropy, target = "labels"}
end

-- A one-hidden-layer perceptron with dropout.
function models.mlp()
  local model = cnn.Chain(cnn.flatten, cnn.Dense(784, 256, cnn.relu), cnn.Dropout(0.5), cnn.Dense(256, 10))
  return {model = model, loss = cnn.logitcrossentropy, target = "labels"}
end

-- A convolutional autoencoder: 28 → 14 → 7 by stride-2 convolutions and
-- back by transposed ones ((7 - 1)·2 - 2·1 + 4 = 14, then 28), mse
-- against the input.
function models.autoencoder()
  if cnn.ConvTranspose == nil then
    return nil, "the autoencoder needs cnn.ConvTranspose, which this build of cnnlua does not have"
  end
  local model = cnn.Chain(
    cnn.Conv({4, 4}, 1, 16, cnn.relu, {stride = 2, pad = 1}),
    cnn.Conv({4, 4}, 16, 32, cnn.relu, {stride = 2, pad = 1}),
    cnn.ConvTranspose({4, 4}, 32, 16, cnn.relu, {stride = 2, pad = 1}),
    cnn.ConvTranspose({4, 4}, 16, 1, cnn.sigmoid, {stride = 2, pad = 1}))
  return {model = model, loss = cnn.mse, target = "images"}
end

return models
