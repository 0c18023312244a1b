-- Blocked layouts pad the channels to a block (LeNet's 6 channels take
-- 16 lanes). A new blocked tensor's padding is not cleared when its
-- memory is taken: oneDNN zeroes it when the buffer is handed to a
-- primitive, and the core's own kernels keep the zeros of their inputs.
-- Here the freed blocks that new tensors reuse are full of NaN, so a
-- padding read before it is zeroed would show in the results.
local cnn = require "cnn"
local flat = require("helpers").flat

local N = 8

-- Six channels through each layer kind that keeps the blocked layout.
local function model()
  local residual = cnn.Chain(cnn.Conv({3, 3}, 6, 6, cnn.relu, {pad = 1}), cnn.BatchNorm(6))
  return cnn.Chain(
    cnn.Conv({5, 5}, 1, 6, cnn.tanh, {pad = 2}), cnn.MeanPool({2, 2}),
    cnn.SkipConnection(residual, function(a, b) return a + b end), cnn.relu,
    cnn.Conv({3, 3}, 6, 6, cnn.sigmoid, {pad = 1}), cnn.MaxPool({2, 2}),
    cnn.Conv({3, 3}, 6, 6, nil, {pad = 1}), cnn.GlobalMeanPool(), cnn.flatten, cnn.Dense(6, 10))
end

-- Output, input gradient and parameter gradients, as tables.
local function run(m, x)
  local ps = cnn.params(m)
  local y = m(x)
  local gx = cnn.gradient(function(input) return cnn.sum(m(input) * m(input)) end, x)
  local gs = cnn.gradient(function() return cnn.sum(m(x) * m(x)) end, ps)
  local out = {flat(y), flat(gx)}
  for _, p in ipairs(ps) do out[#out + 1] = flat(gs[p]) end
  return out
end

-- Frees tensors of NaN of every size the model's blocked tensors take,
-- so that the cache hands their memory to the next tensors of that size.
local function poison_cache()
  collectgarbage()
  local sizes = {}
  for _, hw in ipairs({28, 14, 7, 3}) do
    sizes[#sizes + 1] = hw * hw * 16 * N
    sizes[#sizes + 1] = hw * hw * 8 * N
  end
  for _ = 1, 8 do
    for _, n in ipairs(sizes) do cnn.fill(0 / 0, n):free() end
  end
end

describe("blocked tensors with padded channels", function()
  it("give the same results whatever the memory they take held", function()
    cnn.seed(3)
    local m = model()
    cnn.trainmode(m) -- BatchNorm's batch statistics, whatever its running ones
    local x = cnn.randn(28, 28, 1, N)
    local clean = run(m, x)
    for _, t in ipairs(clean) do
      for _, v in ipairs(t) do assert.is_true(v == v, "NaN in a clean run") end
    end
    poison_cache()
    local poisoned = run(m, x)
    for i = 1, #clean do
      for j = 1, #clean[i] do
        if poisoned[i][j] ~= clean[i][j] then
          error(("result %d, element %d: %s after the poisoning, %s before"):format(
            i, j, poisoned[i][j], clean[i][j]))
        end
      end
    end
  end)
end)
