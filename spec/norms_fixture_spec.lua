-- LayerNorm, GroupNorm and InstanceNorm against PyTorch: the output, the
-- loss, the gradients of the input and of gamma and beta, and gamma and
-- beta after one ADAM step, from fixtures written by
-- scripts/make-norm-fixtures (PyTorch is not needed to run this spec).
local cnn = require "cnn"
local helpers = require "helpers"

-- Each element within 1e-4 of the float64 reference, relative to itself,
-- or within 1e-6 where it is near zero.
local assert_matches = helpers.reference_matcher({rel = 1e-4, abs = 1e-6})

-- The cases of scripts/make-norm-fixtures, in cnnlua's words.
local CASES = {
  {name = "layernorm", layer = function() return cnn.LayerNorm(5, cnn.relu) end},
  {name = "layernorm3", layer = function() return cnn.LayerNorm({4, 3, 2}) end},
  {name = "layernorm_plain", layer = function() return cnn.LayerNorm(7, {affine = false}) end},
  {name = "groupnorm", layer = function() return cnn.GroupNorm(6, 3, cnn.relu) end},
  {name = "groupnorm_plain", layer = function() return cnn.GroupNorm(4, 2, {affine = false}) end},
  {name = "instancenorm", layer = function() return cnn.InstanceNorm(4) end},
  {name = "instancenorm_affine", layer = function() return cnn.InstanceNorm(4, cnn.relu, {affine = true}) end},
}


describe("LayerNorm, GroupNorm and InstanceNorm against PyTorch", function()
  local ref

  setup(function()
    ref = helpers.fixture("norms")
  end)

  for _, case in ipairs(CASES) do
    local function get(field) return ref[case.name .. "." .. field] end

    -- the layer with PyTorch's gamma and beta, its parameters, and the loss
    local function prepared()
      local m = case.layer()
      local ps = cnn.params(m)
      if get("gamma") then
        assert.are.equal(2, #ps)
        m.gamma:copy(get("gamma"))
        m.beta:copy(get("beta"))
      else
        assert.are.equal(0, #ps)
      end
      local x, r = get("x"), get("r")
      return m, ps, function() return cnn.sum(m(x) * r) end
    end

    it(case.name .. ": output, loss and every gradient", function()
      local m, ps, loss = prepared()
      assert_matches(m(get("x")), get("y"), case.name .. " y")
      local l, gs = cnn.withgradient(loss, ps)
      assert_matches(l, get("loss"), case.name .. " loss")
      if #ps > 0 then
        assert_matches(gs[m.gamma], get("grad.gamma"), case.name .. " grad gamma")
        assert_matches(gs[m.beta], get("grad.beta"), case.name .. " grad beta")
      end
      local r = get("r")
      local gx = cnn.gradient(function(input) return cnn.sum(m(input) * r) end, get("x"))
      assert_matches(gx, get("grad.x"), case.name .. " grad x")
    end)

    if case.name:match("plain$") or case.name == "instancenorm" then
      it(case.name .. ": has no parameters, as PyTorch's", function()
        assert.is_nil(get("gamma"))
        assert.are.equal(0, #cnn.params(case.layer()))
      end)
    else
      it(case.name .. ": gamma and beta after one ADAM step", function()
        local m, ps, loss = prepared()
        cnn.update(cnn.ADAM(1e-3), ps, cnn.gradient(loss, ps))
        assert_matches(m.gamma, get("adam.gamma"), case.name .. " gamma after ADAM")
        assert_matches(m.beta, get("adam.beta"), case.name .. " beta after ADAM")
      end)
    end
  end

  it("has cases whose relu cuts: some outputs are zero, some are not", function()
    for _, name in ipairs{"layernorm", "groupnorm", "instancenorm_affine"} do
      local y = ref[name .. ".y"]
      assert.is_true(helpers.relu_cuts(y), name)
    end
  end)
end)
