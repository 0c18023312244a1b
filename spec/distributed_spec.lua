--- cnn.distributed and cnn.train's `distributed` option, alone and in jobs
-- that mpirun starts: two processes on this machine, two "hosts" in
-- network namespaces (scripts/netns-mpirun), and a rank that fails.
-- Every job runs 1 OpenMP thread per rank. mpirun refuses root unless
-- OMPI_ALLOW_RUN_AS_ROOT and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM are set.
local cnn = require "cnn"
local helpers = require "helpers"

local CNNLUA = os.getenv("CNNLUA") or "./build/cnnlua"
local JOB = "spec/distributed_job.lua"
local ENV = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 "
  .. "OMP_WAIT_POLICY=passive"
-- Open MPI's libraries (hwloc, the components it unloads at the end)
-- leak at exit, so under the sanitizers (scripts/test) mpirun runs
-- without ASan preloaded and its ranks without leak detection; the same
-- library code run alone keeps it.
local JOB_ENV = "env -u LD_PRELOAD ASAN_OPTIONS=detect_leaks=0"
local MPIRUN = JOB_ENV .. " mpirun -np 2 --oversubscribe --bind-to none -x OMP_NUM_THREADS=1 "
  .. "-x OMP_WAIT_POLICY=passive"

local compiled = cnn.core.distributed_support()

-- Runs a shell command; its output (stdout and stderr), exit status and
-- wall time.
-- Runs a command; its output, status and the seconds from the moment the
-- job's scripts started (each prints "started at T", T on the machine's
-- monotonic clock, once MPI is up) to the end: a job's start-up (mpirun,
-- MPI's initialisation, which a machine without /etc/hosts slows by
-- seconds of name lookups) is not counted in how fast a failure ends it.
local function run(command)
  local p = io.popen(ENV .. " " .. command .. " 2>&1")
  local out = p:read("a")
  local _, _, status = p:close()
  local finish, started = cnn.core.monotime(), math.huge
  for t in out:gmatch("started at ([%d.]+)") do started = math.min(started, tonumber(t)) end
  return out, status, finish - started
end

-- The line a job's script prints first.
local STARTED = 'io.stderr:write(("started at %.3f\\n"):format(require("cnn").core.monotime()))\n'


local function read_lines(path)
  local lines = {}
  for l in io.lines(path) do lines[#lines + 1] = tonumber(l) end
  return lines
end

-- The largest difference between the tensors saved in a and in b,
-- relative to each tensor's norm, and how many there are.
local function relative_difference(a, b)
  local pa, pb = cnn.core.load_safetensors(a), cnn.core.load_safetensors(b)
  local count, worst, where = 0, 0, nil
  for name, t in pairs(pa) do
    count = count + 1
    local u = assert(pb[name], name .. " missing from " .. b)
    local d = cnn.core.sub(t, u)
    local norm = cnn.core.sum(cnn.core.mul(t, t))
    local rel = norm > 0 and math.sqrt(cnn.core.sum(cnn.core.mul(d, d)) / norm) or cnn.core.maximum(cnn.core.abs(d))
    if rel > worst then worst, where = rel, name end
  end
  return worst, count, where
end

-- Each of the `count` tensors saved in a within `rtol` of b's (the norm
-- of the difference over the norm), or bitwise equal with rtol 0.
local function assert_same_params(a, b, rtol, count)
  if rtol == 0 then
    local pa, pb = cnn.core.load_safetensors(a), cnn.core.load_safetensors(b)
    for name, t in pairs(pa) do
      assert.are.same(t:totable(), pb[name]:totable(), name .. " differs between " .. a .. " and " .. b)
    end
  end
  local rel, n, where = relative_difference(a, b)
  assert.are.equal(count or 8, n)
  assert.is_true(rel <= rtol, ("%s: relative difference %.3g between %s and %s"):format(where, rel, a, b))
end

if not compiled then
  describe("cnn.distributed in a build without MPI", function()
    it("is a job of one process and says why", function()
      assert.is_false(compiled)
      local ok, why = cnn.distributed.available()
      assert.is_false(ok)
      assert.truthy(why:find("built without MPI", 1, true))
      assert.are.equal(0, cnn.distributed.rank())
      assert.are.equal(1, cnn.distributed.size())
    end)
  end)
  return
end

describe("cnn.distributed alone", function()
  it("is rank 0 of 1, and its reductions and broadcasts change nothing", function()
    assert.are.equal(0, cnn.distributed.rank())
    assert.are.equal(1, cnn.distributed.size())
    assert.is_true(cnn.distributed.available())
    cnn.distributed.barrier()
    local t = cnn.tensor({1, 2, 3})
    assert.are.equal(t, cnn.distributed.allreduce(t, "mean"))
    assert.are.same({1, 2, 3}, t:totable())
    assert.are.same({1, 2, 3}, cnn.distributed.broadcast(t, 0):totable())
    assert.are.equal(2.5, cnn.distributed.allreduce_number(2.5, "max"))
  end)

  it("names what it was given and what is valid", function()
    assert.has_error(function() cnn.distributed.allreduce(cnn.ones(2), "avg") end,
      'distributed.allreduce: op must be one of "sum", "mean", "max", "min", got "avg"')
    assert.has_error(function() cnn.distributed.allreduce({1, 2}) end,
      "distributed.allreduce: t must be a tensor, got {1, 2}")
    assert.has_error(function() cnn.distributed.allreduce(cnn.zeros(2, "int32"), "mean") end,
      'distributed.allreduce: the mean of an Int32 tensor is not an Int32; use "sum", or a Float32 tensor')
    assert.has_error(function() cnn.distributed.broadcast(cnn.ones(2), 1) end,
      "distributed.broadcast: root must be an integer in 0..0, got 1")
    local w = cnn.ones(2)
    assert.has_error(function()
      cnn.gradient(function() return cnn.sum(cnn.distributed.allreduce(w * 2)) end, {w})
    end, "distributed.allreduce: not differentiable (it changes the tensor in place, unrecorded; "
      .. "reduce gradients, not tracked values)")
    assert.has_error(function() cnn.distributed.allreduce_number("3") end,
      'distributed.allreduce_number: x must be a number, got "3"')
  end)

  it("lets cnn.train's distributed option train as without it", function()
    cnn.seed(1)
    local x, y = cnn.rand(3, 10), cnn.rand(2, 10)
    local function run_once(distributed)
      cnn.seed(2)
      local m = cnn.Dense(3, 2)
      local function loss(a, b) return cnn.mse(m(a), b) end
      local loader = cnn.DataLoader(x, y, {batchsize = 4})
      local mean = cnn.train(loss, cnn.params(m), loader, cnn.Descent(0.1),
        {progress = false, distributed = distributed})
      return m.weight:totable(), mean
    end
    local w1, l1 = run_once(false)
    local w2, l2 = run_once(true)
    assert.are.same(w1, w2)
    assert.is_true(math.abs(l1 - l2) <= 1e-6 * math.abs(l1))
    assert.has_error(function()
      cnn.train(function() return 0 end, cnn.params(cnn.Dense(3, 2)), {{x, y}}, cnn.ADAM(), {distributed = 1})
    end, "train: options.distributed must be true or false, got 1")
  end)
end)

describe("a job of two processes (mpirun -np 2)", function()
  local dir
  setup(function() dir = helpers.tmpdir() end)
  teardown(function() os.execute("rm -rf " .. helpers.quote(dir)) end)

  it("trains the notebook network as one process does, the ranks' parameters bitwise equal", function()
    local alone = dir .. "/alone"
    local out, status = run(("%s %s %s 50"):format(CNNLUA, JOB, alone))
    assert.are.equal(0, status, out)
    out, status = run(("%s %s %s %s/two 50"):format(MPIRUN, CNNLUA, JOB, dir))
    assert.are.equal(0, status, out)
    assert_same_params(dir .. "/two-0.safetensors", dir .. "/two-1.safetensors", 0)
    assert_same_params(alone .. "-0.safetensors", dir .. "/two-0.safetensors", 1e-5)
    local a, r0, r1 = read_lines(alone .. "-0.txt"), read_lines(dir .. "/two-0.txt"), read_lines(dir .. "/two-1.txt")
    assert.are.equal(50, #a)
    assert.are.same(r0, r1)
    for i = 1, 50 do
      assert.is_true(math.abs(a[i] - r0[i]) <= 1e-5 * a[i], ("step %d: loss %.9g alone, %.9g in the job"):format(i,
        a[i], r0[i]))
    end
    assert.is_true(a[50] < a[1])
  end)

  it("normalises BatchNorm with the global batch's statistics with sync = true, else with each rank's", function()
    local bn = "spec/distributed_bn_job.lua"
    local out, status = run(("%s %s %s/bn-alone true"):format(CNNLUA, bn, dir))
    assert.are.equal(0, status, out)
    out, status = run(("%s %s %s %s/bn-sync true"):format(MPIRUN, CNNLUA, bn, dir))
    assert.are.equal(0, status, out)
    out, status = run(("%s %s %s %s/bn-local false"):format(MPIRUN, CNNLUA, bn, dir))
    assert.are.equal(0, status, out)
    -- the parameters and the running statistics
    assert_same_params(dir .. "/bn-alone.safetensors", dir .. "/bn-sync.safetensors", 1e-5, 12)
    local rel = relative_difference(dir .. "/bn-alone.safetensors", dir .. "/bn-local.safetensors")
    assert.is_true(rel > 1e-3, ("each rank's own statistics gave parameters within %.3g of one process's"):format(rel))
  end)

  it("ends within seconds with the failing rank's message and a non-zero status", function()
    local out, status, seconds = run(("timeout 60 %s %s %s %s/fail 50 1 5"):format(MPIRUN, CNNLUA, JOB, dir))
    assert.are_not.equal(0, status, out)
    assert.truthy(out:find("cnnlua: rank 1: " .. JOB .. ":%d+: failing on purpose at step 5"), out)
    assert.is_true(seconds < 10, ("the job took %.1f s to end"):format(seconds))
  end)

  it("refuses parameters whose sizes differ between ranks, naming the first", function()
    local script = dir .. "/mismatch.lua"
    local f = assert(io.open(script, "w"))
    f:write([[
      local cnn = require "cnn"
      local m = cnn.Chain(cnn.Dense(3, 4), cnn.Dense(4, 2 + cnn.distributed.rank()))
      local function loss(x, y) return cnn.mse(m(x), y) end
      cnn.train(loss, cnn.params(m), {{cnn.rand(3, 4), cnn.rand(2, 4)}}, cnn.ADAM(), {distributed = true})
    ]])
    f:close()
    local out, status = run(("timeout 60 %s %s %s"):format(MPIRUN, CNNLUA, script))
    assert.are_not.equal(0, status, out)
    assert.truthy(out:find("train: parameter 3 has different sizes on different ranks (2×4 on rank 0)", 1, true)
      or out:find("train: parameter 3 has different sizes on different ranks (3×4 on rank 1)", 1, true), out)
  end)

  it("ends with a message, not a wait, when the ranks draw different numbers of batches", function()
    local script = dir .. "/uneven.lua"
    local f = assert(io.open(script, "w"))
    f:write(STARTED .. [[
      local cnn = require "cnn"
      local m = cnn.Dense(3, 2)
      local function loss(x, y) return cnn.mse(m(x), y) end
      local data = {}
      for i = 1, 3 + cnn.distributed.rank() do data[i] = {cnn.rand(3, 4), cnn.rand(2, 4)} end
      cnn.train(loss, cnn.params(m), data, cnn.Descent(0.1), {distributed = true, progress = false})
      print("not ended")
    ]])
    f:close()
    local out, status, seconds = run(("timeout 60 %s %s %s"):format(MPIRUN, CNNLUA, script))
    assert.are_not.equal(0, status, out)
    assert.are_not.equal(124, status, "timed out: " .. out)
    assert.is_truthy(out:find("train: rank 0 ran out of batches after 3 steps while 1 other rank had more", 1, true)
      or out:find("train: 1 rank had no batch 4, rank 1 had one", 1, true), out)
    assert.is_falsy(out:find("not ended", 1, true), out)
    assert.is_true(seconds < 10, ("the job took %.1f s to end"):format(seconds))
  end)

  it("writes checkpoints from rank 0 only", function()
    local script, ckdir, other = dir .. "/checkpoints.lua", dir .. "/ck", dir .. "/ck-other"
    os.execute("mkdir -p " .. helpers.quote(ckdir) .. " " .. helpers.quote(other))
    local f = assert(io.open(script, "w"))
    f:write(([[
      local cnn = require "cnn"
      local m = cnn.Dense(3, 2)
      local function loss(x, y) return cnn.mse(m(x), y) end
      local data = {{cnn.rand(3, 4), cnn.rand(2, 4)}, {cnn.rand(3, 4), cnn.rand(2, 4)}}
      -- the other rank's Checkpointer is given a directory of its own
      local where = cnn.distributed.rank() == 0 and %q or %q
      local ck = cnn.Checkpointer(where, {model = m, every = 1, keep = 1})
      cnn.train(loss, cnn.params(m), data, cnn.ADAM(), {distributed = true, cb = ck, progress = false})
      assert(#ck.kept == 1 and ck.step == 2)
    ]]):format(ckdir, other))
    f:close()
    local out, status = run(("timeout 60 %s %s %s"):format(MPIRUN, CNNLUA, script))
    assert.are.equal(0, status, out)
    local ls = run("ls " .. helpers.quote(ckdir))
    assert.are.equal("checkpoint-00000002.safetensors\n", ls)
    assert.are.equal("", (run("ls " .. helpers.quote(other))))
  end)

  it("keeps the ranks on the same shuffles when dropout draws for uneven shares", function()
    local script = dir .. "/dropout.lua"
    local f = assert(io.open(script, "w"))
    f:write(([[
      local cnn = require "cnn"
      cnn.seed(7)
      local x, y = cnn.rand(5, 7), cnn.rand(2, 7)
      local m = cnn.Chain(cnn.Dense(5, 16, cnn.relu), cnn.Dropout(0.5), cnn.Dense(16, 2))
      -- one batch of 7 per pass, shuffled anew at each: 3 images on rank 0, 4 on rank 1
      local loader = cnn.DataLoader(x, y, {batchsize = 7, shuffle = true})
      local out = assert(io.open(%q .. cnn.distributed.rank(), "w"))
      local function loss(a, b)
        out:write(table.concat(a:select(1, 1):totable(), " "), "\n")
        return cnn.mse(m(a), b)
      end
      cnn.train(loss, cnn.params(m), cnn.ncycle(loader, 6), cnn.Descent(0.1), {distributed = true, progress = false})
      out:close()
      if cnn.distributed.rank() == 0 then
        local all = assert(io.open(%q, "w"))
        all:write(table.concat(x:select(1, 1):totable(), " "), "\n")
        all:close()
      end
    ]]):format(dir .. "/seen-", dir .. "/all"))
    f:close()
    local out, status = run(("timeout 60 %s %s %s"):format(MPIRUN, CNNLUA, script))
    assert.are.equal(0, status, out)
    local function rows(path)
      local r = {}
      for l in io.lines(path) do r[#r + 1] = l end
      return r
    end
    local all = rows(dir .. "/all")[1]
    local words = {}
    for w in all:gmatch("%S+") do words[#words + 1] = w end
    table.sort(words)
    local r0, r1 = rows(dir .. "/seen-0"), rows(dir .. "/seen-1")
    assert.are.equal(6, #r0)
    assert.are.equal(6, #r1)
    for step = 1, 6 do
      local got = {}
      for w in (r0[step] .. " " .. r1[step]):gmatch("%S+") do got[#got + 1] = w end
      table.sort(got)
      assert.are.same(words, got, ("step %d: the ranks' shares are not one shuffle of the 7 images"):format(step))
    end
  end)

  it("runs examples/mnist_cnn.lua data-parallel, rank 0 alone printing", function()
    local out, status = run(("timeout 120 %s %s examples/mnist_cnn.lua 1 512"):format(MPIRUN, CNNLUA))
    assert.are.equal(0, status, out)
    local function count(text)
      local n = 0
      for _ in out:gmatch(text) do n = n + 1 end
      return n
    end
    assert.are.equal(1, count("imgs:size%(3%) = 60000"), out)
    assert.are.equal(1, count("Chain%(\n"), out)
    assert.are.equal(1, count("seconds %(%d+ allocations"), out)
    assert.are.equal(2, count("accuracy%(tX, tY%) = 0%.%d+"), out)
  end)

  it("leaves the job at os.exit: with 0 as at the end, with another status ending the job", function()
    local script = dir .. "/exit.lua"
    local f = assert(io.open(script, "w"))
    f:write(STARTED .. [[
      local d = require("cnn").distributed
      local early = arg[1] == "early"
      if early and d.rank() == 1 then os.exit(3) end
      d.barrier()
      d.allreduce_number(1)
      if early then print("not ended") end
      os.exit(0)
    ]])
    f:close()
    local out, status = run(("timeout 60 %s %s %s end"):format(MPIRUN, CNNLUA, script))
    assert.are.equal(0, status, out)
    local seconds
    out, status, seconds = run(("timeout 60 %s %s %s early"):format(MPIRUN, CNNLUA, script))
    assert.are.equal(3, status, out)
    assert.is_falsy(out:find("not ended", 1, true), out)
    assert.is_true(seconds < 10, ("the job took %.1f s to end"):format(seconds))
  end)

  it("ends when a rank is killed, without hanging", function()
    local script = dir .. "/killed.lua"
    local f = assert(io.open(script, "w"))
    f:write(STARTED .. [[
      local d = require("cnn").distributed
      if d.rank() == 1 then os.execute("kill -9 " .. io.open("/proc/self/stat"):read("n")) end
      d.barrier()
      d.allreduce_number(1)
    ]])
    f:close()
    local out, status, seconds = run(("timeout 60 %s %s %s"):format(MPIRUN, CNNLUA, script))
    assert.are_not.equal(0, status, out)
    assert.are_not.equal(124, status, "timed out: " .. out)
    assert.is_true(seconds < 10, ("the job took %.1f s to end"):format(seconds))
  end)
end)

describe("a job across two network namespaces (scripts/netns-mpirun)", function()
  it("trains as one process does, over TCP between the namespaces", function()
    local dir = helpers.tmpdir()
    local namespaces = run("ip netns list")
    local out, status = run(("timeout 120 %s scripts/netns-mpirun -x OMP_NUM_THREADS=1 -x OMP_WAIT_POLICY=passive "
      .. "%s %s %s/net 50"):format(JOB_ENV, CNNLUA, JOB, dir))
    local alone_out, alone_status = run(("%s %s %s/alone 50"):format(CNNLUA, JOB, dir))
    local ok = status == 0 and alone_status == 0
    if ok then
      assert_same_params(dir .. "/net-0.safetensors", dir .. "/net-1.safetensors", 0)
      assert_same_params(dir .. "/alone-0.safetensors", dir .. "/net-0.safetensors", 1e-5)
    end
    os.execute("rm -rf " .. helpers.quote(dir))
    assert.are.equal(0, alone_status, alone_out)
    assert.are.equal(0, status, "scripts/netns-mpirun failed:\n" .. out)
    assert.are.equal(namespaces, (run("ip netns list")), "the job's namespaces were left behind")
  end)
end)
