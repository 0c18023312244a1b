-- cnn.threads and cnn.adaptive_threads: the ops run on fewer threads while
-- another busy process holds a core, and on the most again when it stops.
local cnn = require "cnn"

-- Runs convolutions for about `seconds`; the thread count they ran on last.
local function work_for(seconds)
  local x, w = cnn.rand(28, 28, 8, 32), cnn.rand(3, 3, 8, 8)
  local start = cnn.core.monotime()
  while cnn.core.monotime() - start < seconds do cnn.core.conv2d(x, w, nil, {pad = 1}) end
  local _, now, others = cnn.threads()
  return now, others
end

-- Starts a process that keeps one core busy; returns a function stopping it.
local function busy_process()
  local pidfile = os.tmpname()
  assert(os.execute(("sh -c 'while :; do :; done' >/dev/null 2>&1 & echo $! > %s"):format(pidfile)))
  local f = assert(io.open(pidfile))
  local pid = assert(tonumber(f:read("a")))
  f:close()
  os.remove(pidfile)
  return function() os.execute("kill " .. pid) end
end

describe("the thread count", function()
  local most, adaptive
  before_each(function() most, adaptive = cnn.threads(), cnn.adaptive_threads() end)
  after_each(function()
    cnn.threads(most)
    cnn.adaptive_threads(adaptive)
  end)

  it("drops by the core another busy process holds, and comes back when it stops", function()
    cnn.threads(2)
    cnn.adaptive_threads(true)
    local stop = busy_process()
    local ok, now, others = pcall(work_for, 1.5)
    stop()
    assert(ok, now)
    assert.are.equal(1, now, ("others kept %.2f cores busy"):format(others))
    assert.is_true(others > 0.5, ("others kept %.2f cores busy"):format(others))
    -- once it has stopped, the ops run on 2 threads less the cores other
    -- work on the machine still holds (none on an idle machine)
    now, others = work_for(0.6)
    assert.are.equal(math.max(1, 2 - math.floor(others + 0.5)), now, ("others %.2f"):format(others))
  end)

  it("stays on the most when adapting is off", function()
    cnn.threads(2)
    cnn.adaptive_threads(false)
    local stop = busy_process()
    local ok, now = pcall(work_for, 1)
    stop()
    assert(ok, now)
    assert.are.equal(2, now)
    assert.is_false(cnn.adaptive_threads(true))
  end)

  it("sets the most, and names what it cannot use", function()
    assert.are.equal(3, select(1, cnn.threads(3)))
    assert.has_error(function() cnn.threads(0) end, "threads: n must be an integer from 1 to 4096, got 0")
    assert.has_error(function() cnn.threads(1.5) end, "threads: n must be an integer from 1 to 4096, got 1.5")
    assert.has_error(function() cnn.adaptive_threads("no") end,
                     'adaptive_threads: on must be true or false, got "no"')
  end)
end)
