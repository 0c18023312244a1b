-- The activations and losses beyond the notebook's against PyTorch: values
-- and gradients, from fixtures written by scripts/make-activation-fixtures
-- (PyTorch is not needed to run this spec).
local cnn = require "cnn"
local helpers = require "helpers"

-- Each element within 1e-4 of the float64 reference, relative to itself,
-- or within 1e-6 of the tensor's largest element.
local assert_matches = helpers.reference_matcher({rel = 1e-4, abs_of_max = 1e-6})


local ACTIVATIONS = {
  swish = cnn.swish, mish = cnn.mish, relu6 = cnn.relu6, hardsigmoid = cnn.hardsigmoid, selu = cnn.selu,
  celu = cnn.celu, celu_05 = function(x) return cnn.celu(x, 0.5) end, softsign = cnn.softsign,
}

local LOSSES = {
  mae = cnn.mae, huber = cnn.huber_loss,
  huber_05 = function(p, y) return cnn.huber_loss(p, y, {delta = 0.5}) end,
  kldivergence = cnn.kldivergence, focal = cnn.focal_loss,
  focal_1 = function(p, y) return cnn.focal_loss(p, y, {gamma = 1}) end,
  binary_focal = cnn.binary_focal_loss, hinge = cnn.hinge_loss, squared_hinge = cnn.squared_hinge_loss,
}

local function sorted(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

describe("activations and losses against PyTorch", function()
  local ref

  setup(function()
    ref = helpers.fixture("activations_losses")
  end)

  for _, name in ipairs(sorted(ACTIVATIONS)) do
    it(name .. ": values and the gradient", function()
      local f, x, r = ACTIVATIONS[name], ref["act.x"], ref["act.r"]
      assert_matches(f(x), ref["act." .. name .. ".y"], name)
      local g = cnn.gradient(function(t) return cnn.sum(f(t) * r) end, x)
      assert_matches(g, ref["act." .. name .. ".grad"], name .. " gradient")
    end)
  end

  for _, name in ipairs(sorted(LOSSES)) do
    it(name .. ": the loss and the gradients of prediction and target", function()
      local f = LOSSES[name]
      local function get(field) return ref["loss." .. name .. "." .. field] end
      local yhat, y = get("yhat"), get("y")
      assert_matches(cnn.tensor(f(yhat, y)):reshape(1), get("value"), name)
      local gyhat, gy = cnn.gradient(f, yhat, y)
      assert_matches(gyhat, get("grad.yhat"), name .. " gradient of the prediction")
      assert_matches(gy, get("grad.y"), name .. " gradient of the target")
    end)
  end

  it("the fixture has every case and nothing else", function()
    local expected = {["act.x"] = true, ["act.r"] = true}
    for name in pairs(ACTIVATIONS) do
      expected["act." .. name .. ".y"], expected["act." .. name .. ".grad"] = true, true
    end
    for name in pairs(LOSSES) do
      for _, field in ipairs{"yhat", "y", "value", "grad.yhat", "grad.y"} do
        expected["loss." .. name .. "." .. field] = true
      end
    end
    assert.are.same(sorted(expected), sorted(ref))
  end)
end)
