--- A training run for spec/distributed_spec.lua, run by cnnlua alone or
-- under mpirun: the MNIST notebook network, 50 steps of a global batch of
-- 128 (5 passes over 1251 images, so that each pass ends with a batch of
-- 99, split unevenly between two ranks), 1 thread per process.
--
--   cnnlua spec/distributed_job.lua OUT [steps [fail_rank fail_step]]
--
-- Each rank writes its parameters to OUT-<rank>.safetensors and its
-- losses to OUT-<rank>.txt, and checks that cnn.accuracy and
-- cnn.confusion shared among the ranks count as on the whole data; with fail_rank, that rank raises an error at
-- step fail_step.
local cnn = require "cnn"
-- how long a failing job took to end is counted from here (distributed_spec)
io.stderr:write(("started at %.3f\n"):format(cnn.core.monotime()))

local out, steps = arg[1], tonumber(arg[2] or "50")
local fail_rank, fail_step = tonumber(arg[3]), tonumber(arg[4])
assert(out, "usage: distributed_job.lua OUT [steps [fail_rank fail_step]]")
cnn.core.threads(1)
cnn.seed(3)

local n = 1251
local dir = (os.getenv("CNNLUA_DATA") or "data") .. "/mnist/"
local imgs = cnn.core.read_idx(dir .. "train-images-idx3-ubyte")
local labels = cnn.core.read_idx(dir .. "train-labels-idx1-ubyte")
local x = (imgs:narrow(3, 1, n) / 255):reshape(28, 28, 1, n)
local digits = cnn.range(0, 9)
local y = cnn.onehotbatch(labels:narrow(1, 1, n):int(), digits)

local model = cnn.Chain(
  cnn.Conv({3, 3}, 1, 16, cnn.relu, {pad = 1}), cnn.MaxPool({2, 2}),
  cnn.Conv({3, 3}, 16, 32, cnn.relu, {pad = 1}), cnn.MaxPool({2, 2}),
  cnn.Conv({3, 3}, 32, 32, cnn.relu, {pad = 1}), cnn.MaxPool({2, 2}),
  cnn.flatten, cnn.Dense(288, 10), cnn.softmax)
local rank = cnn.distributed.rank()
if rank ~= 0 then
  -- every rank starts from rank 0's parameters whatever its own are
  for _, p in ipairs(cnn.params(model)) do cnn.core.fill(p, 0.5) end
end
local function loss(a, b) return cnn.crossentropy(model(a), b) end
local loader = cnn.DataLoader(x, y, {batchsize = 128, shuffle = true})
local function fail(info)
  if rank == fail_rank and info.step == fail_step then error("failing on purpose at step " .. info.step) end
  if info.step == steps then cnn.stop() end
end
local _, trained, h = cnn.train(loss, cnn.params(model), cnn.ncycle(loader, 5), cnn.Descent(0.03),
  {distributed = true, progress = false, cb = fail})
assert(trained == steps, ("expected %d steps, got %d"):format(steps, trained))
cnn.savemodel(("%s-%d.safetensors"):format(out, rank), model)
-- evaluated whole on every rank, and shared among the ranks
local accuracy = cnn.accuracy(model, x, y, nil, 100)
local shared = cnn.accuracy(model, x, y, nil, {batchsize = 100, distributed = true})
assert(shared == accuracy, ("accuracy %.9g, shared among the ranks %.9g"):format(accuracy, shared))
local counts = cnn.confusion(model, x, y)
local shared_counts = cnn.confusion(model, x, y, nil, {distributed = true})
assert(cnn.core.sum(cnn.core.abs(counts - shared_counts)) == 0, "the shared confusion counts differ")
assert(cnn.core.sum(shared_counts) == n)
local f = assert(io.open(("%s-%d.txt"):format(out, rank), "w"))
for _, v in ipairs(h.loss) do f:write(("%.9g\n"):format(v)) end
f:close()
