-- The counts of a steady-state training step of scripts/bench's resnet
-- (a BatchNorm ResNet, cnn.SkipConnection blocks): activations stay in the
-- blocked layout a convolution chose through batch normalisation, relu,
-- the residual additions and pooling, forward and backward, so the
-- reorders left are the weights' (7 convolutions forward, 6 backward data,
-- 7 weight gradients) and two at the head (the mean pool's plain gradient
-- into the blocked relu backward, the flatten of the pooled 1×1×32×N);
-- and the tensors allocated are the outputs and gradients themselves.
-- Counts, not timings: they do not depend on the machine's load.
package.path = "scripts/bench.d/?.lua;" .. package.path
local cnn = require "cnn"
local models = require "cnnlua_models"

local STEPS = 20

local function per_step(report, key) return report[key] / STEPS end

describe("a resnet training step", function()
  it("reorders only weights and the head, takes no memory from the system, creates no primitive", function()
    cnn.seed(3)
    local spec = models.resnet()
    local model = spec.model
    local x = cnn.rand(16, 16, 1, 16) -- MNIST-sized counts, smaller images
    local y = cnn.onehotbatch({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5}, cnn.range(0, 9))
    local ps = cnn.params(model)
    local opt = cnn.ADAM(1e-3)
    local function step()
      local gs = cnn.gradient(function() return spec.loss(model(x), y) end, ps)
      cnn.update(opt, ps, gs)
    end
    -- creates the primitives, then fills the cache of freed blocks: garbage
    -- is freed at a collection, every 64 MB of tensors (3 steps here) or
    -- more with a big Lua heap (as in a run of the whole suite), and the
    -- cache holds what a whole cycle between two collections takes; a
    -- collection at the end puts the last steps' blocks in the cache too
    for _ = 1, 40 do step() end
    collectgarbage()
    local report = cnn.profile_report(function() for _ = 1, STEPS do step() end end)
    assert.are.equal(0, report.primitives_created)
    -- 61 reorders and 112 allocations a step while batch normalisation and
    -- the additions converted their blocked operands to plain
    assert.is_true(per_step(report, "reorders") <= 22, cnn.profile_text(report))
    assert.is_true(per_step(report, "tensor_allocations") <= 100, cnn.profile_text(report))
    -- their memory comes from the blocks the previous steps freed (20 MB a
    -- step came from the system while the cache held 96 blocks at most)
    assert.are.equal(0, report.system_allocations, cnn.profile_text(report))
    -- a batch normalisation of each convolution's output, each forward and backward once
    local runs = {}
    for _, row in ipairs(report.rows) do runs[row.name] = row.executions end
    assert.are.equal(7 * STEPS, runs["batchnorm forward"])
    assert.are.equal(7 * STEPS, runs["batchnorm backward"])
    assert.are.equal(7 * STEPS, runs["conv forward"])
  end)
end)
