-- The line cnn.time and the prompt's `.time on` print.
local cnn = require "cnn"
local timing = require "cnn.timing"

describe("timing.report", function()
  it("counts the tensors allocated since the mark and their bytes", function()
    local mark = timing.start()
    local a, b = cnn.zeros(1024), cnn.zeros(256, "int32")
    local line = timing.report(mark)
    -- 1024 + 256 four-byte elements: 5120 bytes, 5.000 KiB
    assert.truthy(line:find("^%s+%d+%.%d%d%d%d%d%d seconds %(2 allocations: 5%.000 KiB%)$"), line)
    assert.equal(1024 + 256, a:numel() + b:numel())
  end)

  it("leaves out the allocations when there were none", function()
    local line = timing.report(timing.start())
    assert.truthy(line:find("^%s+%d+%.%d+ seconds$"), line)
  end)

  it("measures the wall time between the mark and now", function()
    local mark = timing.start()
    local t0 = cnn.wallclock()
    repeat until cnn.wallclock() - t0 >= 0.05
    local seconds = tonumber(timing.report(mark):match("([%d.]+) seconds"))
    assert.truthy(seconds >= 0.05 and seconds < 1, tostring(seconds))
  end)
end)
