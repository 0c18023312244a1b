--- Two small questions every part of the library asks about its arguments:
-- is this a tensor, and what are its sizes as text.
-- @module cnn.tensorcheck

local Tensor = require("cnn.core").Tensor

local tensorcheck = {}

--- Whether x is a cnn.Tensor.
function tensorcheck.is_tensor(x)
  return getmetatable(x) == Tensor
end

--- The sizes of a tensor as text, as error messages show them:
-- "28×28×1×4", "0-dim" for a scalar, "freed" for a freed tensor.
function tensorcheck.shape(t)
  if t:isfreed() then return "freed" end
  local s = t:size()
  if #s == 0 then return "0-dim" end
  return table.concat(s, "×")
end

return tensorcheck
