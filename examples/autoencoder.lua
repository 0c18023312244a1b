-- A convolutional autoencoder on MNIST: a stride-2 Conv encoder squeezes
-- each 28×28 digit to 7×7×32, a ConvTranspose decoder draws it back, and
-- the mean squared error between the two is the loss. Prints the test
-- loss before training and after each epoch, then a few test digits
-- next to their reconstructions.
--
--   build/cnnlua examples/autoencoder.lua [epochs [images]]
--
-- epochs: passes over the training set (default 2). images: train on the
-- first N training images only (a quick run; default all 60,000).

local cnn = require "cnn"

local epochs = math.tointeger(tonumber(arg and arg[1] or "2"))
local subset = math.tointeger(tonumber(arg and arg[2] or "0"))
assert(epochs and epochs >= 1, "usage: autoencoder.lua [epochs >= 1 [images]]")
assert(subset and subset >= 0, "usage: autoencoder.lua [epochs [images >= 1]]")

cnn.seed(1)
local MNIST = cnn.datasets.MNIST
local X = MNIST.images():reshape(28, 28, 1, -1)
if subset > 0 and subset < X:size(4) then X = X:slice(4, 1, subset) end
local tX = MNIST.images("test"):reshape(28, 28, 1, -1):slice(4, 1, 1000)

local model = cnn.Chain(
  -- encoder: 28×28×1 → 14×14×16 → 7×7×32
  cnn.Conv({3, 3}, 1, 16, cnn.relu, {stride = 2, pad = 1}),
  cnn.Conv({3, 3}, 16, 32, cnn.relu, {stride = 2, pad = 1}),
  -- decoder: 7×7×32 → 14×14×16 → 28×28×1, pixels in (0, 1)
  cnn.ConvTranspose({3, 3}, 32, 16, cnn.relu, {stride = 2, pad = 1, outpad = 1}),
  cnn.ConvTranspose({3, 3}, 16, 1, cnn.sigmoid, {stride = 2, pad = 1, outpad = 1}))
print(model)

local function loss(x) return cnn.mse(model(x), x) end
local ps, opt = cnn.params(model), cnn.ADAM(3e-3)
local loader = cnn.DataLoader(X, {batchsize = 32, shuffle = true})

print(("test loss before training: %.5f"):format(loss(tX)))
for epoch = 1, epochs do
  local t0, total, n = cnn.wallclock(), 0, 0
  for x in loader do
    local l, gs = cnn.withgradient(function() return loss(x) end, ps)
    cnn.update(opt, ps, gs)
    total, n = total + cnn.item(l), n + 1
  end
  print(("epoch %d/%d: train loss %.5f, test loss %.5f (%.1f s)")
    :format(epoch, epochs, total / n, loss(tX), cnn.wallclock() - t0))
end

-- A few test digits (left) and their reconstructions (right).
local function side_by_side(a, b)
  local left, lines = {}, {}
  for line in a:gmatch("[^\n]+") do left[#left + 1] = line end
  local i = 0
  for line in b:gmatch("[^\n]+") do
    i = i + 1
    lines[i] = left[i] .. "  " .. line
  end
  return table.concat(lines, "\n")
end

local shown = tX:slice(4, 1, 3)
local decoded = model(shown)
for i = 1, 3 do
  print(("test image %d and its reconstruction:"):format(i))
  print(side_by_side(cnn.imagestring(shown:slice(4, i, i)), cnn.imagestring(decoded:slice(4, i, i))))
end
