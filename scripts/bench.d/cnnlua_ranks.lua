-- One of scripts/bench.d/cnnlua_models.lua's models trained by cnn.train
-- with {distributed = true}, for scripts/bench --ranks: alone (one rank of
-- many threads) or as one rank of an mpirun job. Rank 0 prints one JSON
-- line: images/s over the steps after the first, the step time, the time
-- spent inside the gradients' allreduce per step (the waiting for the
-- slowest rank included), the bytes reduced per step, and, after the
-- training, the time of an allreduce of one number (the latency) and of
-- a buffer of the gradients' size alone (no waiting for a slower rank).
--   cnnlua scripts/bench.d/cnnlua_ranks.lua steps threads model
package.path = "scripts/bench.d/?.lua;" .. package.path
local cnn = require "cnn"
local models = require "cnnlua_models"

local steps = math.tointeger(tonumber(arg[1] or "30"))
local threads = math.tointeger(tonumber(arg[2] or "1"))
local name = arg[3] or "notebook"
if not (steps and steps >= 2 and threads and threads >= 1 and models[name]) then
  io.stderr:write("usage: cnnlua_ranks.lua steps(>= 2) threads model\n")
  os.exit(2)
end
cnn.core.threads(threads)
cnn.seed(0)
local spec, why = models[name]()
if not spec then
  io.stderr:write(why, "\n")
  os.exit(3)
end
local model, now = spec.model, cnn.core.monotime
local dist = cnn.distributed

local X = cnn.datasets.MNIST.images("train"):reshape(28, 28, 1, -1)
local Y = cnn.onehotbatch(cnn.datasets.MNIST.labels("train"), cnn.range(0, 9))
local batch = 128
local loader = cnn.DataLoader({X, Y}, {batchsize = batch, shuffle = true})
local loss = function(x, y) return spec.loss(model(x), y) end

-- from the end of the first step (primitives made, buffers allocated) to
-- the end of the last
local first_end, reduce0, last_end, reduced
local function clock(info)
  if info.step == 1 then
    first_end, reduce0 = now(), cnn.core.distributed_stats()
  end
  if info.step == steps then
    last_end, reduced = now(), cnn.core.distributed_stats()
    cnn.stop()
  end
end
cnn.train(loss, cnn.params(model), cnn.ncycle(loader, 100), cnn.ADAM(1e-3),
  {distributed = true, progress = false, cb = clock})
local seconds = last_end - first_end
local timed = steps - 1

-- the latency: the mean of 50 allreduces of one number
dist.barrier()
local t0 = now()
for _ = 1, 50 do dist.allreduce_number(1) end
local latency = (now() - t0) / 50

local bytes = 0
for _, p in ipairs(cnn.params(model)) do bytes = bytes + 4 * p:numel() end
local bucket = cnn.zeros(bytes // 4)
dist.barrier()
t0 = now()
for _ = 1, 20 do dist.allreduce(bucket) end
local bucket_alone = (now() - t0) / 20
if dist.rank() == 0 then
  print(("{\"side\": \"cnnlua\", \"model\": %q, \"ranks\": %d, \"threads\": %d, \"steps\": %d, "
    .. "\"images_per_second\": %.1f, \"step_seconds\": %.6f, \"allreduce_seconds_per_step\": %.6f, "
    .. "\"allreduce_calls_per_step\": %.3f, \"bucket_bytes\": %d, \"latency_seconds\": %.7f, "
    .. "\"bucket_alone_seconds\": %.7f}")
    :format(name, dist.size(), threads, timed, timed * batch / seconds, seconds / timed,
      (reduced.seconds - reduce0.seconds) / timed, (reduced.calls - reduce0.calls) / timed, bytes, latency,
      bucket_alone))
end
