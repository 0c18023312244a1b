-- scripts/bench is a benchmark, not a test: here it only has to start and
-- report, on a few steps of the cnnlua side (PyTorch is not needed).
describe("scripts/bench", function()
  it("runs a few steps of the notebook network and reports", function()
    -- the driver is Python and runs the release build: no sanitizer there
    local p = io.popen("env -u LD_PRELOAD -u ASAN_OPTIONS scripts/bench --pairs 1 --steps 3 --only cnnlua 2>&1")
    local out = p:read("a")
    local ok = p:close()
    assert.is_true(ok, out)
    assert.is_truthy(out:find("pair 1 cnnlua +train +[%d.]+ images/s"), out)
    assert.is_truthy(out:find("eval 10000 in one batch [%d.]+ s"), out)
    assert.is_truthy(out:find("FP32 sgemm peak [%d.]+ GFLOP/s"), out)
  end)
end)
