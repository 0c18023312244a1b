--- Two small questions every part of the library asks about its arguments:
-- is this a tensor, and what are its sizes as text.
-- @module cnn.tensorcheck

local Tensor = require("cnn.core").Tensor

local tensorcheck = {}

--- Whether x is a cnn.Tensor.
function tensorcheck.is_tensor(x)
  return getmetatable(x) == Tensor
end

--- A list of sizes as text, as error messages show them: "28×28×1×4",
-- "0-dim" for none. The one way the library writes a shape.
function tensorcheck.sizes_text(sizes)
  if #sizes == 0 then return "0-dim" end
  return table.concat(sizes, "×")
end

--- The sizes of a tensor as text (see sizes_text), "freed" for a freed
-- tensor.
function tensorcheck.shape(t)
  if t:isfreed() then return "freed" end
  local s = t:size()
  return tensorcheck.sizes_text(s)
end

return tensorcheck
