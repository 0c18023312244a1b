-- Upsample, AdaptiveMaxPool, AdaptiveMeanPool, MeanPool without the
-- padding counted, and Embedding against PyTorch: forward output, loss,
-- every gradient and Embedding's weight after one ADAM step, from
-- fixtures written by scripts/make-sampling-fixtures (PyTorch is not
-- needed to run this spec).
local cnn = require "cnn"
local helpers = require "helpers"

-- Each element within 1e-4 of the float64 reference, relative to itself,
-- or within 1e-6 where it is near zero.
local assert_matches = helpers.reference_matcher({rel = 1e-4, abs = 1e-6})

-- The cases of scripts/make-sampling-fixtures, in cnnlua's words.
local CASES = {
  {name = "nearest", layer = function() return cnn.Upsample("nearest", {scale = {2, 3}}) end},
  {name = "bilinear", layer = function() return cnn.Upsample("bilinear", {scale = 2}) end},
  {name = "bilinear_size", layer = function() return cnn.Upsample("bilinear", {size = {7, 9}}) end},
  {name = "bilinear_down", layer = function() return cnn.Upsample("bilinear", {size = {3, 4}}) end},
  {name = "adaptive_max", layer = function() return cnn.AdaptiveMaxPool({3, 2}) end},
  {name = "adaptive_mean", layer = function() return cnn.AdaptiveMeanPool({4, 3}) end},
  {name = "adaptive_max_even", layer = function() return cnn.AdaptiveMaxPool({4, 3}) end},
  {name = "adaptive_mean_even", layer = function() return cnn.AdaptiveMeanPool({4, 3}) end},
  {name = "adaptive_mean_up", layer = function() return cnn.AdaptiveMeanPool({5, 4}) end},
  {name = "meanpool_exclude", layer = function()
    return cnn.MeanPool(3, {stride = 2, pad = 1, count_include_pad = false})
  end},
  {name = "meanpool_include", layer = function() return cnn.MeanPool(3, {stride = 2, pad = 1}) end},
  {name = "bilinear_real", layer = function() return cnn.Upsample("bilinear", {scale = {1.5, 2.5}}) end},
}



describe("resampling, adaptive pooling, MeanPool and Embedding against PyTorch", function()
  local ref

  setup(function()
    ref = helpers.fixture("sampling")
  end)

  for _, case in ipairs(CASES) do
    local function get(field) return ref[case.name .. "." .. field] end

    it(case.name .. ": forward output, loss and input gradient", function()
      local m = case.layer()
      local x, r = get("x"), get("r")
      assert_matches(m(x), get("y"), case.name .. " y")
      local l, gx = cnn.withgradient(function(input) return cnn.sum(m(input) * r) end, x)
      assert_matches(l, get("loss"), case.name .. " loss")
      assert_matches(gx[1], get("grad.x"), case.name .. " grad x")
    end)
  end

  it("meanpool: counting the padding or not gives different means at the border", function()
    assert.is_false(ref["meanpool_exclude.y"]:isapprox(ref["meanpool_include.y"]))
  end)

  describe("embedding", function()
    local function get(field) return ref["embedding." .. field] end

    local function layer()
      local m = cnn.Embedding(7, 4)
      m.weight:copy(get("weight"))
      return m
    end

    it("has the fixture's sizes, a repeated index and an unused entry", function()
      local counts = {}
      for _, i in ipairs(get("indices"):reshape(-1):totable()) do counts[i] = (counts[i] or 0) + 1 end
      assert.is_nil(counts[7])
      local repeated = false
      for _, c in pairs(counts) do repeated = repeated or c > 1 end
      assert.is_true(repeated)
      assert.are.same({4, 7}, get("weight"):size())
    end)

    it("gives the output, loss and weight gradient", function()
      local m, idx, r = layer(), get("indices"):int(), get("r")
      assert_matches(m(idx), get("y"), "embedding y")
      local l, gs = cnn.withgradient(function() return cnn.sum(m(idx) * r) end, cnn.params(m))
      assert_matches(l, get("loss"), "embedding loss")
      assert_matches(gs[m.weight], get("grad.weight"), "embedding grad weight")
    end)

    it("gives the weight after one ADAM step", function()
      local m, idx, r = layer(), get("indices"):int(), get("r")
      local ps = cnn.params(m)
      local gs = cnn.gradient(function() return cnn.sum(m(idx) * r) end, ps)
      cnn.update(cnn.ADAM(1e-3), ps, gs)
      assert_matches(m.weight, get("adam.weight"), "embedding weight after ADAM")
    end)

    it("gives the one-hot input's output and gradient, as weight * x", function()
      local m, r = layer(), get("r")
      local idx = get("indices"):reshape(-1)
      local onehot = cnn.onehotbatch(idx:int(), cnn.range(1, 7))
      local y = get("y"):reshape(4, -1)
      assert_matches(m(onehot), y, "embedding one-hot y")
      local gs = cnn.gradient(function() return cnn.sum(m(onehot) * r:reshape(4, -1)) end, cnn.params(m))
      assert_matches(gs[m.weight], get("grad.weight"), "embedding one-hot grad weight")
    end)
  end)
end)
