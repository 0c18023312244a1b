--- How many threads the ops run on: `cnn.threads` and
-- `cnn.adaptive_threads`.
--
-- oneDNN and the core's loops run on OpenMP's threads, at most as many as
-- `OMP_NUM_THREADS` or the cores (`cnn.threads(n)` sets another most).
-- OpenMP's threads wait for each other at every barrier, so when another
-- busy process holds a core, a step that needs all the threads waits again
-- and again for the one that is descheduled: on 2 cores with one
-- competing busy process, the benchmark's ResNet step fell from about
-- 1,490 to 500 images/s (and in some runs to 150). So the ops follow the
-- machine's load: every quarter of a second at most, they look at how many
-- cores other processes kept busy and run on the most threads less that
-- many (at least one) — 850 images/s in the same case. On an idle machine
-- they run on the most.
--
-- Results can differ in the last bits with the thread count (sums are
-- split differently), so for runs that must be bitwise reproducible under
-- load, turn adapting off: `cnn.adaptive_threads(false)` or
-- `CNNLUA_ADAPT_THREADS=0`.
-- @module cnn.threads

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"

local threads = {}

--- The most threads the ops may run on, the threads they run on now, and
-- the cores other processes kept busy at the last look (how adapting
-- decided); `threads(n)` first sets the most to n.
-- @function threads
-- @tparam[opt] integer n the most threads, 1 to 4096
-- @treturn integer the most threads
-- @treturn integer the threads the next ops run on
-- @treturn number cores other processes kept busy, at the last look
-- @usage local most, now = cnn.threads()
-- cnn.threads(1) -- one thread from now on
function threads.threads(n)
  if n ~= nil and not (math.type(n) == "integer" and n >= 1 and n <= 4096) then
    argcheck.fail("threads", "n", "an integer from 1 to 4096", n)
  end
  return core.threads(n)
end

--- Whether the thread count follows the other processes' load (on unless
-- `CNNLUA_ADAPT_THREADS=0`); `adaptive_threads(on)` first turns it on or
-- off (off runs every op on the most threads).
-- @function adaptive_threads
-- @tparam[opt] boolean on
-- @treturn boolean whether it was on
-- @usage cnn.adaptive_threads(false) -- bitwise reproducible under load
function threads.adaptive_threads(on)
  if on ~= nil and type(on) ~= "boolean" then
    argcheck.fail("adaptive_threads", "on", "true or false", on)
  end
  return core.adaptive_threads(on)
end

return threads
