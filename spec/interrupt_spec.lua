--- Ctrl-C at random moments. SIGINT is sent into long loops of tensor work
-- (matrix products, a Dense and a Conv layer, a Conv in bf16 precision,
-- training, saving a model) in
-- child processes of the cnnlua host at 1 and 2 OpenMP threads. Each child
-- runs its loop under pcall and must catch the interrupt as an error, find
-- every tensor, model and file as it was, print a marker, and do it again
-- for the next interrupt, 25 times, then exit 0. A
-- crash, an abort, a sanitizer report or a missing marker fails the spec.
-- Then: only the main thread may take SIGINT, and an interrupt at each
-- point of a training step, in turn, leaves the library working.
--
-- The delays are random but seeded: CNNLUA_INTERRUPT_SEED repeats a run,
-- and CNNLUA_INTERRUPT_REPORT=1 prints the outcomes per target even when
-- all survive. The executable is $CNNLUA, else ./build/cnnlua.

local CNNLUA = os.getenv("CNNLUA") or "./build/cnnlua"
local SEED = tonumber(os.getenv("CNNLUA_INTERRUPT_SEED")) or 1729

-- 25 interrupts per target and thread count, in every build, all taken
-- by one child one after another, each into a fresh loop, checking its
-- state after each: starting a process and setting up its target cost
-- more than the interrupts themselves. (Interrupts at every instruction of
-- a training step, where Lua code can be cut short, are the sweep's at the
-- end; these land mostly inside long C calls and OpenMP teams.)
local ROUNDS = 25
local ROUNDS_PER_CHILD = 25
local PARALLEL = 4          -- children at a time
local MAX_DELAY_MS = 40     -- the interrupt comes 0-40 ms into the loop
local THREADS = {1, 2}
local TARGETS = {"matmul", "dense", "conv", "bf16", "train", "save"}

local helpers = require "helpers"
local quote = helpers.quote

local function write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local text = f:read("a")
  f:close()
  return text
end

local function first_line(cmdline)
  local p = io.popen(cmdline)
  local line = p:read("l")
  p:close()
  return line
end

local tmpdir = first_line("mktemp -d")
local cnnlua = CNNLUA:sub(1, 1) == "/" and CNNLUA or first_line("pwd") .. "/" .. CNNLUA

teardown(function()
  os.execute("rm -rf " .. quote(tmpdir))
end)

--- A small generator of its own, so that the delays depend on the seed
-- only and the spec leaves math.random's state to the other specs.
local function generator(seed)
  local state = seed
  return function(lo, hi)
    state = state * 6364136223846793005 + 1442695040888963407
    return lo + (state >> 33) % (hi - lo + 1)
  end
end

-- The child: `cnnlua child.lua <target> <dir> <rounds>`. In each round it
-- prints "ready" as its loop starts and "survived <round>" once every
-- check after the interrupt has passed.
local CHILD = [==[
local cnn = require "cnn"
local target, dir = arg[1], arg[2]

-- Whether two tensors agree (a NaN never does).
local function same(what, actual, expected)
  local diff = (actual - expected):abs():max()
  if not (diff <= 1e-6 * (1 + expected:abs():max())) then
    error(("%s differs from before by %.9g"):format(what, diff), 2)
  end
end

local function finite(what, t)
  local s = t:abs():sum()
  if s ~= s or s == math.huge then error(what .. " holds NaN or infinite values", 2) end
end

local function snapshot(ps)
  local s = {}
  for i, p in ipairs(ps) do s[i] = p:clone() end
  return s
end

local function same_params(ps, saved)
  for i, p in ipairs(ps) do same("parameter " .. i, p, saved[i]) end
end

local function gradients(m, x, ps)
  local gs = cnn.gradient(function() return cnn.sum(m(x)) end, ps)
  local s = {}
  for i, p in ipairs(ps) do s[i] = gs[p]:clone() end
  return s
end

-- Each target sets up its data and returns the step its loop repeats and
-- the check that runs after the interrupt.
local targets = {}

function targets.matmul()
  local a = cnn.rand(400, 400)
  local a0, y0 = a:clone(), cnn.matmul(a, a)
  return function() local _ = cnn.matmul(a, a) end,
    function()
      same("a", a, a0)
      same("matmul(a, a)", cnn.matmul(a, a), y0)
    end
end

function targets.dense()
  local m, x = cnn.Dense(512, 512, cnn.relu), cnn.rand(512, 128)
  local ps = cnn.params(m)
  local p0, y0 = snapshot(ps), m(x)
  return function() local _ = m(x) end,
    function()
      same_params(ps, p0)
      same("Dense output", m(x), y0)
    end
end

function targets.conv()
  local m, x = cnn.Conv({3, 3}, 8, 16, cnn.relu, {pad = 1}), cnn.rand(32, 32, 8, 8)
  local ps = cnn.params(m)
  local p0, y0, g0 = snapshot(ps), m(x), gradients(m, x, ps)
  return function() local _ = gradients(m, x, ps) end,
    function()
      same_params(ps, p0)
      same("Conv output", m(x), y0)
      local g = gradients(m, x, ps)
      for i = 1, #g0 do same("gradient " .. i, g[i], g0[i]) end
    end
end

-- Gradients in bf16 precision: afterwards the precision is FP32 again
-- and bf16 gradients are what they were.
function targets.bf16()
  local m, x = cnn.Conv({3, 3}, 16, 16, cnn.relu, {pad = 1}), cnn.rand(16, 16, 16, 8)
  local ps = cnn.params(m)
  local g0 = cnn.precision("bf16", gradients, m, x, ps)
  return function() cnn.precision("bf16", gradients, m, x, ps) end,
    function()
      if cnn.precision() ~= "fp32" then error("the precision was left " .. cnn.precision()) end
      local g = cnn.precision("bf16", gradients, m, x, ps)
      for i = 1, #g0 do same("bf16 gradient " .. i, g[i], g0[i]) end
    end
end

-- Training changes the model: afterwards it must still be the same
-- parameters, finite, computing the same output twice, and train again.
function targets.train()
  local labels = {}
  for i = 1, 512 do labels[i] = (i * 7) % 10 end
  local X, Y = cnn.rand(256, 512), cnn.onehotbatch(labels, cnn.range(0, 9))
  local model = cnn.Chain(cnn.Dense(256, 256, cnn.relu), cnn.Dense(256, 10), cnn.softmax)
  local ps = cnn.params(model)
  local loader = cnn.DataLoader(X, Y, {batchsize = 64})
  local opt = cnn.ADAM()
  local function loss(x, y) return cnn.crossentropy(model(x), y) end
  local function pass() return cnn.train(loss, ps, loader, opt, {progress = false}) end
  pass()
  return pass,
    function()
      local now = cnn.params(model)
      if #now ~= #ps then error(("%d parameters, expected %d"):format(#now, #ps)) end
      for i, p in ipairs(ps) do
        if now[i] ~= p then error("parameter " .. i .. " was replaced") end
        finite("parameter " .. i, p)
      end
      local y = model(X)
      finite("model output", y)
      same("model output again", model(X), y)
      local mean, steps = pass()
      if steps ~= 8 then error(("a later pass trained %s steps, expected 8"):format(steps)) end
      if mean ~= mean or math.abs(mean) == math.huge then error("a later pass's loss is " .. mean) end
    end
end

-- One matrix product long enough for two Ctrl-C to land in it.
function targets.long()
  local a = cnn.rand(4000, 4000)
  return function() local _ = cnn.matmul(a, a) end, function() end
end

-- The file is rewritten again and again; afterwards it must load into a
-- model that computes what the saved one did, with no temporary file left.
function targets.save()
  local function build() return cnn.Chain(cnn.Dense(256, 256, cnn.relu), cnn.Dense(256, 10)) end
  local model, x = build(), cnn.rand(256, 16)
  local path = dir .. "/model.safetensors"
  local y0 = model(x)
  cnn.savemodel(path, model)
  return function() cnn.savemodel(path, model) end,
    function()
      same("loaded model output", cnn.loadmodel(path, build())(x), y0)
      -- ls without a sanitizer's preload, whose leak report would fail the run
      local listing = io.popen("env -u LD_PRELOAD ls -A " .. dir)
      for name in listing:lines() do
        if name:find(".tmp.", 1, true) then error("left behind: " .. dir .. "/" .. name) end
      end
      listing:close()
    end
end

local setup = targets[target] or error("no target " .. tostring(target))
local rounds = tonumber(arg[3]) or error("no round count")
local step, check = setup()
local kept, kept_tensor = {answer = 42}, cnn.ones(3, 3) * 7
for round = 1, rounds do
  local deadline = cnn.core.monotime() + 20
  local ok, err = pcall(function()
    io.stdout:write("ready\n")
    io.stdout:flush()
    while cnn.core.monotime() < deadline do step() end
  end)
  if ok then error(("round %d: no interrupt came within 20 s"):format(round)) end
  if not tostring(err):find("interrupted!", 1, true) then
    error(("round %d: the loop ended with another error: %s"):format(round, tostring(err)))
  end
  check()
  if kept.answer ~= 42 then error("a table of the session changed") end
  same("a tensor of the session", kept_tensor, cnn.ones(3, 3) * 7)
  io.stdout:write("survived ", round, "\n")
  io.stdout:flush()
end
]==]

-- The driver reads jobs ("id target threads delay,delay,...") on stdin and
-- runs a few at a time: it starts the child with one round per delay, and
-- for each round waits for "ready", sleeps the delay and sends SIGINT; then
-- it prints "id status last-line-of-stdout". A child silent for a minute is
-- killed. A sanitizer's preload goes to the children only, not to the
-- shell and the tools it runs.
local DRIVER = [==[
host=$1 child=$2 dir=$3 parallel=$4 signals=$5 preload=$6
run_job() {
  local id=$1 target=$2 threads=$3 delays=$4 fd pid line rest status i delay
  local -a each
  IFS=, read -r -a each <<<"$delays"
  mkdir -p "$dir/$id"
  exec {fd}< <(LD_PRELOAD=$preload OMP_NUM_THREADS=$threads CNNLUA_ADAPT_THREADS=0 \
    exec "$host" "$child" "$target" "$dir/$id" "${#each[@]}" 2>"$dir/$id.err")
  pid=$!
  for delay in "${each[@]}"; do
    line=
    while read -r -t 60 -u "$fd" line && [ "$line" != ready ]; do :; done
    [ "$line" = ready ] || break
    sleep "$delay"
    for ((i = 0; i < signals; i++)); do kill -INT "$pid" 2>/dev/null; sleep 0.002; done
  done
  read -r -t 60 -d '' -u "$fd" rest
  [ $? -gt 128 ] && kill -KILL "$pid" 2>/dev/null
  wait "$pid"
  status=$?
  exec {fd}<&-
  printf '%s %s %s\n' "$id" "$status" "$(printf '%s\n' "$rest" | tail -n 1)"
}
while read -r id target threads delays; do
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n; done
  run_job "$id" "$target" "$threads" "$delays" &
done
wait
]==]

local child_path, driver_path = tmpdir .. "/child.lua", tmpdir .. "/driver.sh"
write_file(child_path, CHILD)
write_file(driver_path, DRIVER)

--- Runs the jobs (arrays {target, threads, {delay_ms, ...}}), one child
-- each with a round per delay and 'signals' SIGINTs a round; returns a
-- table of results by job index, each {status=, marker=, err=}.
local function run_jobs(jobs, signals)
  local list = tmpdir .. "/jobs"
  local lines = {}
  for i, job in ipairs(jobs) do
    local delays = {}
    for k, ms in ipairs(job[3]) do delays[k] = ("%.3f"):format(ms / 1000) end
    lines[i] = ("%d %s %d %s"):format(i, job[1], job[2], table.concat(delays, ","))
  end
  write_file(list, table.concat(lines, "\n") .. "\n")
  local results = {}
  local p = io.popen(("env -u LD_PRELOAD bash %s %s %s %s %d %d %s < %s"):format(quote(driver_path),
    quote(cnnlua), quote(child_path), quote(tmpdir), PARALLEL, signals,
    quote(os.getenv("LD_PRELOAD") or ""), quote(list)))
  for line in p:lines() do
    local id, status, marker = line:match("^(%d+) (%d+) ?(.*)$")
    if id then
      results[tonumber(id)] = {status = tonumber(status), marker = marker,
        err = read_file(("%s/%s.err"):format(tmpdir, id))}
    end
  end
  p:close()
  return results
end

--- How a child ended: "survived", "crashed" (a signal, a sanitizer's
-- report, or killed after hanging) or "failed" (another status, or not
-- the marker of its last round).
local function outcome(r, rounds)
  if r == nil then return "failed" end
  if r.status > 128 or r.err:find("Sanitizer", 1, true) or r.err:find("runtime error:", 1, true) then
    return "crashed"
  end
  if r.status == 0 and r.marker == "survived " .. rounds then return "survived" end
  return "failed"
end

--- The jobs: every target at every thread count, ROUNDS interrupts in
-- children of ROUNDS_PER_CHILD, with the seeded delays.
local function all_jobs()
  local random, jobs = generator(SEED), {}
  for _ = 1, ROUNDS // ROUNDS_PER_CHILD do
    for _, threads in ipairs(THREADS) do
      for _, target in ipairs(TARGETS) do
        local delays = {}
        for k = 1, ROUNDS_PER_CHILD do delays[k] = random(0, MAX_DELAY_MS) end
        jobs[#jobs + 1] = {target, threads, delays}
      end
    end
  end
  return jobs
end

--- A table of crashes and failures per target and thread count, and the
-- stderr of the first few children that did not survive.
local function summary(jobs, results)
  local counts, examples = {}, {}
  for i, job in ipairs(jobs) do
    local key = ("%-6s at %d thread%s"):format(job[1], job[2], job[2] == 1 and "" or "s")
    counts[key] = counts[key] or {survived = 0, crashed = 0, failed = 0}
    local how = outcome(results[i], #job[3])
    counts[key][how] = counts[key][how] + 1
    if how ~= "survived" and #examples < 3 then
      local r = results[i] or {status = -1, err = "(no result)"}
      examples[#examples + 1] = ("%s, delays %s ms: status %d, last line %q\n%s"):format(
        key, table.concat(job[3], ","), r.status, r.marker or "", r.err:sub(1, 600))
    end
  end
  local rows, bad = {}, 0
  for key, c in pairs(counts) do
    rows[#rows + 1] = ("%s: %d crashed, %d failed, %d survived (children of %d interrupts)"):format(
      key, c.crashed, c.failed, c.survived, ROUNDS_PER_CHILD)
    bad = bad + c.crashed + c.failed
  end
  table.sort(rows)
  return bad, table.concat(rows, "\n") .. "\n" .. table.concat(examples, "\n")
end

describe("SIGINT at random moments (seed " .. SEED .. ")", function()
  it(("is caught as an error, state intact, by every target %d times at 1 and 2 threads")
      :format(ROUNDS), function()
    local jobs = all_jobs()
    local bad, text = summary(jobs, run_jobs(jobs, 1))
    if os.getenv("CNNLUA_INTERRUPT_REPORT") then io.stderr:write("\n", text, "\n") end
    assert(bad == 0, ("%d of %d children did not survive:\n%s"):format(bad, #jobs, text))
  end)

  it("twice during one long operation ends a script by SIGINT, as lua does, never by a crash", function()
    local random, jobs = generator(SEED + 1), {}
    for _ = 1, 5 do
      for _, threads in ipairs(THREADS) do
        jobs[#jobs + 1] = {"long", threads, {random(0, MAX_DELAY_MS)}}
      end
    end
    local results = run_jobs(jobs, 2)
    for i, job in ipairs(jobs) do
      local r = results[i]
      assert(r, "no result for job " .. i)
      -- 130: killed by SIGINT (the shell's 128 + 2); 0: the two merged
      -- into one before the handler ran
      assert(r.status == 130 or (r.status == 0 and r.marker == "survived 1"),
        ("job %d (%d threads, delay %d ms): status %d\n%s"):format(i, job[2], job[3][1], r.status, r.err))
    end
  end)
end)

--- Runs the Lua text as file `name` of the temporary directory in cnnlua,
-- with the environment assignments `env` before it; returns its stdout and
-- stderr together and whether it exited 0.
local function run_script(name, text, env)
  local path = tmpdir .. "/" .. name
  write_file(path, text)
  local p = io.popen(("%s %s %s 2>&1"):format(env, quote(cnnlua), quote(path)))
  local out = p:read("a")
  return out, p:close()
end

-- Lists each thread of the process as "main" or "worker", and whether it
-- blocks SIGINT, after OpenMP teams of 4, 2 and 4 threads: libgomp lets
-- the threads beyond a smaller team exit and starts new ones later.
local THREAD_MASKS = [==[
local cnn = require "cnn"
local pid = io.open("/proc/self/stat"):read("l"):match("^(%d+)")
local a = cnn.rand(600, 600)
for _, n in ipairs({4, 2, 4}) do
  cnn.core.threads(n)
  local _ = cnn.matmul(a, a)
end
local tasks = io.popen("env -u LD_PRELOAD ls /proc/" .. pid .. "/task")
for tid in tasks:lines() do
  local f = assert(io.open("/proc/" .. pid .. "/task/" .. tid .. "/status"))
  local blocked = tonumber(f:read("a"):match("SigBlk:%s*(%x+)"), 16)
  f:close()
  io.write(tid == pid and "main" or "worker", " ", (blocked >> 1) & 1 == 1 and "blocks" or "takes", "\n")
end
tasks:close()
]==]

describe("the threads of cnnlua", function()
  it("all block SIGINT but the main thread, also those started after the first team", function()
    local out = run_script("masks.lua", THREAD_MASKS, "OMP_NUM_THREADS=4 CNNLUA_ADAPT_THREADS=0")
    local main, workers = 0, 0
    for role, mask in out:gmatch("(%a+) (%a+)\n") do
      if role == "main" then
        main = main + 1
        assert(mask == "takes", "the main thread blocks SIGINT:\n" .. out)
      else
        workers = workers + 1
        assert(mask == "blocks", "a worker thread takes SIGINT:\n" .. out)
      end
    end
    assert(main == 1 and workers == 3, "expected the main thread and 3 workers:\n" .. out)
  end)
end)

-- The child of the sweep: `cnnlua sweep.lua`. A shell beside it sends
-- the child SIGINT for each line it reads; a count hook asks for one at
-- the n-th instruction of a scope and waits until the host's handler has
-- taken it (the handler's hook then replaces the count hook), so the
-- host's real hook raises "interrupted!" at the next event. For every n
-- the library must be as before afterwards. Prints "swept <n>
-- <interrupted>" for each scope.
local SWEEP = [==[
local cnn = require "cnn"
local pid = io.open("/proc/self/stat"):read("l"):match("^(%d+)")
local sender = io.popen("env -u LD_PRELOAD sh -c 'while read -r _; do kill -INT " .. pid .. "; done'", "w")
local function interrupt_me()
  sender:write("\n")
  sender:flush()
  while debug.gethook() == nil do end
end

-- Runs scope() with SIGINT sent at its n-th instruction; returns pcall's
-- results (the outer pcall catches an interrupt raised just after scope).
local function interrupt_at(n, scope)
  local ok, err = pcall(function()
    debug.sethook(function()
      debug.sethook()
      interrupt_me()
    end, "", n)
    local inner_ok, inner_err = pcall(scope)
    debug.sethook()
    if not inner_ok then error(inner_err, 0) end
  end)
  debug.sethook()
  return ok, err
end

local function instructions(scope)
  local n = 0
  debug.sethook(function() n = n + 1 end, "", 1)
  scope()
  debug.sethook()
  return n
end

-- Interrupts scope at each of its instructions in turn; check(n) runs
-- after each.
local function sweep(name, scope, check)
  local total, interrupted = instructions(scope), 0
  for n = 1, total do
    local ok, err = interrupt_at(n, scope)
    if not ok then
      if not tostring(err):find("interrupted!", 1, true) then
        error(("%s, instruction %d of %d: another error: %s"):format(name, n, total, tostring(err)))
      end
      interrupted = interrupted + 1
    end
    check(("%s, after an interrupt at instruction %d of %d"):format(name, n, total))
  end
  print("swept " .. name .. " " .. total .. " " .. interrupted)
end

-- a closer's cleanup runs to its end
local state = "before"
sweep("closer", function()
  local _ <close> = cnn.core.closer(function()
    state = "restoring"
    state = "restored"
  end)
  state = "changed"
end, function(where)
  if state ~= "restored" and state ~= "before" then error(where .. ": the cleanup stopped at " .. state) end
  state = "before"
end)

-- a training step, in bf16 where the CPU has it: afterwards the
-- precision is FP32 and gradients are what they were
local precision = cnn.core.precision_supported("bf16") and "bf16" or "fp32"
local model = cnn.Dense(4, 2)
local ps = cnn.params(model)
local x, y = cnn.rand(4, 2), cnn.rand(2, 2)
local function loss(a, b) return cnn.mse(model(a), b) end
local opt = cnn.Descent(0) -- the parameters stay as they are
local function gradient() return cnn.gradient(function() return loss(x, y) end, ps) end
local g0 = gradient()
sweep("train", function()
  cnn.train(loss, ps, {{x, y}}, opt, {progress = false, precision = precision})
end, function(where)
  if cnn.precision() ~= "fp32" then error(where .. ": the precision was left " .. cnn.precision()) end
  local ok, gs = pcall(gradient)
  if not ok then error(where .. ": " .. tostring(gs)) end
  for i, p in ipairs(ps) do
    local diff = (gs[p] - g0[p]):abs():max()
    if diff ~= 0 then error(("%s: gradient %d differs by %g"):format(where, i, diff)) end
  end
end)
sender:close()
]==]

describe("an interrupt at any point of a training step", function()
  -- A few points fall inside the library's own pcalls, which swallow the
  -- error: the step then simply completes.
  it("leaves cleanups whole, cnn.gradient and cnn.train working with the same results", function()
    local out, ok = run_script("sweep.lua", SWEEP, "")
    assert(ok, "the sweep failed:\n" .. out)
    local swept = {}
    for name, total, interrupted in out:gmatch("swept (%a+) (%d+) (%d+)") do
      swept[name] = {tonumber(total), tonumber(interrupted)}
    end
    assert(swept.closer and swept.train, "the sweep did not finish:\n" .. out)
    assert(swept.train[1] > 1000, "too few instructions to be a training step:\n" .. out)
    for name, c in pairs(swept) do
      assert(c[2] >= 0.9 * c[1], ("%s: only %d of %d interrupts were raised"):format(name, c[2], c[1]))
    end
  end)
end)
