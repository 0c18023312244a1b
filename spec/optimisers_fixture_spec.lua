-- Optimisers against PyTorch (or, where PyTorch's rule differs from
-- Optimisers.jl's, the Optimisers.jl formula in float64): two parameter
-- arrays after 5 steps, from fixtures written by
-- scripts/make-optimiser-fixtures (PyTorch is not needed to run this spec).
local cnn = require "cnn"
local helpers = require "helpers"

local STEPS = 5
-- Each element within 1e-5 of the float64 reference, relative to itself,
-- or within 1e-6 where it is near zero.
local assert_matches = helpers.reference_matcher({rel = 1e-5, abs = 1e-6, source = "the reference"})

-- The cases of scripts/make-optimiser-fixtures, in cnnlua's words.
local CASES = {
  chain = function() return cnn.OptimiserChain(cnn.ClipNorm(1.0), cnn.WeightDecay(1e-4), cnn.ADAM(0.01)) end,
  chain_clipgrad = function() return cnn.OptimiserChain(cnn.ClipGrad(0.5), cnn.Momentum(0.01, 0.9)) end,
  adagrad = function() return cnn.AdaGrad(0.1) end,
  adadelta = function() return cnn.AdaDelta(0.9, 1e-3) end,
  adamax = function() return cnn.AdaMax(0.01) end,
  amsgrad = function() return cnn.AMSGrad(0.01) end,
  nadam = function() return cnn.NAdam(0.01) end,
  radam = function() return cnn.RAdam(0.01) end,
  adabelief = function() return cnn.AdaBelief(0.01) end,
  lion = function() return cnn.Lion(0.01) end,
}


describe("optimisers against PyTorch and Optimisers.jl's formulas", function()
  local ref
  setup(function() ref = helpers.fixture("optimisers") end)

  local names = {}
  for name in pairs(CASES) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    it(name .. ": both arrays after " .. STEPS .. " steps", function()
      local a, b = ref["p.a"]:clone(), ref["p.b"]:clone()
      local ps, opt = {a, b}, CASES[name]()
      for k = 1, STEPS do
        cnn.update(opt, ps, {[a] = ref["g" .. k .. ".a"], [b] = ref["g" .. k .. ".b"]})
      end
      assert_matches(a, ref[name .. ".a"], name .. " a")
      assert_matches(b, ref[name .. ".b"], name .. " b")
      -- the parameters moved: the check is not of the starting values
      assert.is_true(math.abs(a:totable()[1][1] - ref["p.a"]:totable()[1][1]) > 1e-4)
    end)
  end
end)
