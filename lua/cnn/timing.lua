--- The report of cnn.time and of the prompt's `.time on`: wall time and
-- the tensor memory allocated between a mark and now, as the line
-- "  0.012345 seconds (3 allocations: 1.172 MiB)".
-- @module cnn.timing

local core = require "cnn.core"
local progress = require "cnn.progress"

local timing = {}

--- A mark of the wall clock and the allocation counters, now.
-- @treturn table
function timing.start()
  local stats = core.stats()
  return { allocations = stats.tensor_allocations, bytes = stats.tensor_bytes_allocated,
           seconds = core.monotime() }
end

--- The report line for the time since `mark` (see start).
-- @tparam table mark
-- @treturn string
function timing.report(mark)
  local seconds = core.monotime() - mark.seconds
  local stats = core.stats()
  return progress.format_time(seconds, stats.tensor_allocations - mark.allocations,
    stats.tensor_bytes_allocated - mark.bytes)
end

return timing
