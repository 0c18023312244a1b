-- scripts/bench is a benchmark, not a test: here it only has to start and
-- report, on a few steps of the cnnlua side (PyTorch is not needed).
local cnn = require "cnn"

-- The driver is Python and runs the release build: no sanitizer there.
local function bench(args)
  local p = io.popen("env -u LD_PRELOAD -u ASAN_OPTIONS scripts/bench " .. args .. " 2>&1")
  local out = p:read("a")
  return p:close(), out
end

describe("scripts/bench", function()
  it("runs a few steps of the notebook network and reports", function()
    local ok, out = bench("--pairs 1 --steps 3 --only cnnlua")
    assert.is_true(ok, out)
    assert.is_truthy(out:find("pair 1 cnnlua +train +[%d.]+ images/s"), out)
    assert.is_truthy(out:find("eval 10000 in one batch [%d.]+ s"), out)
    assert.is_truthy(out:find("FP32 sgemm peak [%d.]+ GFLOP/s"), out)
  end)

  it("runs another model with --model, in the same format", function()
    for _, model in ipairs{"lenet", "mlp"} do
      local ok, out = bench("--model " .. model .. " --pairs 1 --steps 2 --only cnnlua")
      assert.is_true(ok, out)
      assert.is_truthy(out:find("pair 1 cnnlua +train +[%d.]+ images/s"), out)
      assert.is_truthy(out:find("in batches of 1000 [%d.]+ s"), out)
      assert.is_truthy(out:find("median cnnlua +train"), out)
      -- the FLOP count is the notebook network's
      assert.is_falsy(out:find("sgemm"), out)
    end
  end)

  it("runs the autoencoder only with cnn.ConvTranspose, else says it needs it", function()
    local ok, out = bench("--model autoencoder --pairs 1 --steps 1 --only cnnlua")
    if cnn.ConvTranspose then
      assert.is_true(ok, out)
      assert.is_truthy(out:find("pair 1 cnnlua +train +[%d.]+ images/s"), out)
    else
      assert.is_falsy(ok, out)
      assert.are.equal("bench: --model autoencoder: the autoencoder needs cnn.ConvTranspose, "
        .. "which this build of cnnlua does not have\n", out)
    end
  end)

  it("augments cnnlua's batches with --transform", function()
    local ok, out = bench("--pairs 1 --steps 2 --transform")
    assert.is_true(ok, out)
    assert.is_truthy(out:find("pair 1 cnnlua +train +[%d.]+ images/s"), out)
    assert.is_falsy(out:find("pytorch"), out)
    ok, out = bench("--transform --only pytorch")
    assert.is_falsy(ok, out)
    assert.is_truthy(out:find("bench: --transform runs the cnnlua side only", 1, true), out)
  end)

  it("times cnnlua's int8 evaluation against FP32 with --int8", function()
    local ok, out = bench("--pairs 1 --steps 3 --int8")
    assert.is_true(ok, out)
    local pattern = "int8 eval 10000 %(cnn.accuracy%) FP32 [%d.]+ s, int8 [%d.]+ s %([%d.]+x faster%);"
      .. " accuracy FP32 0%.%d+, int8 0%.%d+; quantize [%d.]+ s"
    assert.is_truthy(out:find("pair 1 cnnlua +" .. pattern), out)
    assert.is_truthy(out:find("median cnnlua +" .. pattern), out)
    assert.is_falsy(out:find("pytorch"), out)
    ok, out = bench("--int8 --model lenet")
    assert.is_falsy(ok, out)
    assert.is_truthy(out:find("bench: --int8 runs the notebook model only", 1, true), out)
  end)

  it("compares N ranks with one rank of N times the threads with --ranks, and projects", function()
    if not cnn.core.distributed_support() then
      local ok, out = bench("--ranks 2 --steps 3 --pairs 1 --model notebook")
      assert.is_falsy(ok, out)
      return
    end
    local ok, out = bench("--ranks 2 --steps 3 --pairs 1 --model notebook")
    assert.is_true(ok, out)
    assert.is_truthy(out:find("pair 1 notebook +1×2: +[%d.]+ images/s +2×1: +[%d.]+ images/s +ratio 2×1/1×2 [%d.]+"),
      out)
    assert.is_truthy(out:find("allreduce per step [%d.]+ ms in the step, [%d.]+ ms alone"), out)
    assert.is_truthy(out:find("project  notebook +64 ranks: +[%d.]+ images/s"), out)
    assert.is_falsy(out:find("resnet"), out)
  end)

  it("runs each side in FP32 and in bf16 with --precision bf16", function()
    local ok, out = bench("--pairs 2 --steps 2 --only cnnlua --precision bf16")
    assert.is_true(ok, out)
    assert.is_truthy(out:find("pair 1 cnnlua +train +[%d.]+ images/s"), out)
    assert.is_truthy(out:find("pair 2 cnnlua bf16 +train +[%d.]+ images/s"), out)
    assert.is_truthy(out:find("median cnnlua bf16 +train +[%d.]+ images/s"), out)
    assert.is_truthy(out:find("speedup  cnnlua bf16/FP32 training [%d.]+x"), out)
    ok, out = bench("--precision fp16 --only cnnlua")
    assert.is_falsy(ok, out)
    assert.is_truthy(out:find("invalid choice: 'fp16' (choose from 'fp32', 'bf16')", 1, true), out)
  end)

  it("refuses an unknown model, listing the known ones", function()
    local ok, out = bench("--model alexnet --only cnnlua")
    assert.is_falsy(ok, out)
    local known = "'notebook', 'resnet', 'lenet', 'mlp', 'autoencoder'"
    assert.is_truthy(out:find("invalid choice: 'alexnet' (choose from " .. known .. ")", 1, true), out)
  end)
end)
