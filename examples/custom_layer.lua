-- A layer of your own, written in Lua: a learnable scale and shift per
-- channel, used in a Chain with Conv, MaxPool and Dense on MNIST, trained,
-- printed, summarised, saved and loaded back.
--
--   build/cnnlua examples/custom_layer.lua [epochs [images]]
--
-- epochs: passes over the training set (1 by default). images: train on
-- the first N of the 60,000 training images only (a quick smoke run).

local cnn = require "cnn"

local epochs = math.tointeger(tonumber(arg and arg[1] or "1"))
local subset = math.tointeger(tonumber(arg and arg[2] or "0"))
assert(epochs and epochs >= 1, "usage: custom_layer.lua [epochs >= 1 [images]]")
assert(subset and subset >= 0, "usage: custom_layer.lua [epochs [images >= 1]]")
cnn.seed(1)

-- A layer is anything that can be called on a tensor: a function, or a
-- table with a __call metamethod. A layer that learns keeps its tensors in
-- its fields. cnn.params, printing, cnn.summary, cnn.savemodel and
-- cnn.loadmodel find them there, as Flux's functors do: no registration,
-- no `parameters` method. Here the methods shared by every Scale layer:
local ScaleLayer = {}
ScaleLayer.__index = ScaleLayer

-- Scale(channels): y = scale * x + shift for each channel of W×H×C×N
-- images, scale starting at 1 and shift at 0. Both are 1×1×C×1 tensors,
-- which broadcast over the width, height and batch of x.
local function Scale(channels)
  assert(math.type(channels) == "integer" and channels >= 1,
    "Scale: channels must be a positive integer, got " .. tostring(channels))
  return setmetatable({
    scale = cnn.ones(1, 1, channels, 1),
    shift = cnn.zeros(1, 1, channels, 1),
  }, ScaleLayer)
end

-- The forward pass uses cnn's tensor operations only, so cnn.gradient
-- records it and differentiates it: a backward pass comes for free. A
-- wrong input gets an error that says what was expected.
function ScaleLayer:__call(x)
  local c = self.scale:size(3)
  if x:ndims() ~= 4 or x:size(3) ~= c then
    error(("Scale: input is %s, expected W×H×%d×N"):format(table.concat(x:size(), "×"), c), 0)
  end
  return x * self.scale + self.shift
end

-- How the layer is printed (print(model), cnn.summary).
function ScaleLayer:__tostring()
  return ("Scale(%d)"):format(self.scale:size(3))
end

-- The layer alone: on two channels of ones, scale 3 for the second one.
local s = Scale(2)
s.scale[{1, 1, 2, 1}] = 3
local x = cnn.ones(2, 2, 2, 1)
cnn.show("s(x)", s(x))
print(select(2, pcall(s, cnn.ones(2, 2, 3, 1))))   -- three channels: refused

-- Its gradient: d sum(scale * x + shift) / d scale is the sum of x over
-- each channel (4 here), d / d shift the number of pixels (also 4).
local gs = cnn.gradient(function() return cnn.sum(s(x)) end, cnn.params(s))
cnn.show("gs[s.scale]", gs[s.scale]:reshape(-1))
cnn.show("gs[s.shift]", gs[s.shift]:reshape(-1))

-- The model: Scale after each convolution, as BatchNorm would be placed.
-- A function that builds it gives a fresh copy to load saved weights into.
local function build()
  return cnn.Chain(
    cnn.Conv({3, 3}, 1, 16, {pad = 1}), Scale(16), cnn.relu, cnn.MaxPool({2, 2}),
    cnn.Conv({3, 3}, 16, 32, {pad = 1}), Scale(32), cnn.relu, cnn.MaxPool({2, 2}),
    cnn.flatten, cnn.Dense(7 * 7 * 32, 10))
end
local model = build()
print(model)
print(cnn.summary(model, {28, 28, 1, 1}))

-- cnn.params finds the Scale layers' tensors with the others, in layer
-- order: the first Conv's weight and bias, then the first Scale's scale
-- and shift (fields in the order of their names), and so on.
local ps = cnn.params(model)
local count = 0
for _, p in ipairs(ps) do count = count + p:numel() end
print(("cnn.params(model): %d arrays, %d parameters"):format(#ps, count))
cnn.show("ps[3] == model[2].scale", rawequal(ps[3], model[2].scale))

-- The data: MNIST digits, W×H×C×N, and their labels one-hot.
local MNIST, digits = cnn.datasets.MNIST, cnn.range(0, 9)
local X = MNIST.images():reshape(28, 28, 1, -1)
local Y = cnn.onehotbatch(MNIST.labels(), digits)
if subset > 0 and subset < X:size(4) then
  X, Y = X:narrow(4, 1, subset), Y:narrow(2, 1, subset)
end
local tX, tlabels = MNIST.images("test"):reshape(28, 28, 1, -1), MNIST.labels("test")
cnn.show("X:size()", X:size())

-- Training, as for any model: the Dense layer gives scores (logits), and
-- logitcrossentropy applies the softmax.
local function loss(xb, yb) return cnn.logitcrossentropy(model(xb), yb) end
local loader = cnn.DataLoader(X, Y, {batchsize = 128, shuffle = true})
cnn.train(loss, ps, cnn.ncycle(loader, epochs), cnn.ADAM())
local accuracy = cnn.accuracy(model, tX, tlabels, digits)
print(("test accuracy = %.4f"):format(accuracy))

-- What the first Scale learned: a factor and an offset per channel.
local function numbers(t)
  local list = {}
  for i, v in ipairs(t:reshape(-1):totable()) do list[i] = ("%.3f"):format(v) end
  return table.concat(list, " ")
end
print("model[2].scale: " .. numbers(model[2].scale))
print("model[2].shift: " .. numbers(model[2].shift))

-- Saving and loading: savemodel writes every tensor cnn.params finds
-- (Scale's included); loadmodel fills a freshly built model of the same
-- architecture, checking each size first.
local path = os.tmpname()
cnn.savemodel(path, model)
local copy = cnn.loadmodel(path, build())
os.remove(path)

-- The copy holds the same numbers (`==` compares whole tensors) and so
-- gives the same outputs and the same accuracy.
local same = true
for i, p in ipairs(cnn.params(copy)) do same = same and p == ps[i] end
local some = tX:narrow(4, 1, 100)
same = same and copy(some) == model(some)
cnn.show("loaded copy equals the trained model", same)
print(("test accuracy of the copy = %.4f"):format(cnn.accuracy(copy, tX, tlabels, digits)))
