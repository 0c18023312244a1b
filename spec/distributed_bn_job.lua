--- A training run with BatchNorm for spec/distributed_spec.lua, run by
-- cnnlua alone or under mpirun: two Conv-BatchNorm blocks on 1251 MNIST
-- images, 20 steps of a global batch of 128 (the tenth of 99 images),
-- 1 thread per process.
--
--   cnnlua spec/distributed_bn_job.lua OUT sync
--
-- sync is "true" for BatchNorm's `sync` option (statistics of the global
-- batch), "false" for each rank's own. Rank 0 writes the parameters and
-- running statistics to OUT.safetensors.
local cnn = require "cnn"

local out, sync = arg[1], arg[2] == "true"
assert(out and (arg[2] == "true" or arg[2] == "false"), "usage: distributed_bn_job.lua OUT true|false")
cnn.core.threads(1)
cnn.seed(4)

local n = 1251
local dir = (os.getenv("CNNLUA_DATA") or "data") .. "/mnist/"
local x = (cnn.core.read_idx(dir .. "train-images-idx3-ubyte"):narrow(3, 1, n) / 255):reshape(28, 28, 1, n)
local y = cnn.onehotbatch(cnn.core.read_idx(dir .. "train-labels-idx1-ubyte"):narrow(1, 1, n):int(),
  cnn.range(0, 9))

local model = cnn.Chain(
  cnn.Conv({3, 3}, 1, 8, {pad = 1, bias = false}), cnn.BatchNorm(8, cnn.relu, {sync = sync}), cnn.MaxPool({2, 2}),
  cnn.Conv({3, 3}, 8, 8, {pad = 1, bias = false}), cnn.BatchNorm(8, cnn.relu, {sync = sync}),
  cnn.GlobalMeanPool(), cnn.flatten, cnn.Dense(8, 10))
local function loss(a, b) return cnn.logitcrossentropy(model(a), b) end
local loader = cnn.DataLoader(x, y, {batchsize = 128, shuffle = true})
local _, steps = cnn.train(loss, cnn.params(model), cnn.ncycle(loader, 2), cnn.Descent(0.05),
  {distributed = true, progress = false})
assert(steps == 20, "expected 20 steps, got " .. steps)
if cnn.distributed.rank() == 0 then cnn.savemodel(out .. ".safetensors", model) end
