--- Saving and loading a model's state (its parameters and running
-- statistics) as a safetensors file: data only, nothing executed on load.
--
-- The architecture stays in the script that builds the model: build it,
-- then `cnn.loadmodel(path, model)` fills it. Tensors are named by their
-- position in the model ("state.1", "state.2", ...) in the order of
-- `cnn.params` followed by the non-trainable tensors (BatchNorm's running
-- mean and variance); the file's metadata keeps the printed model for
-- people. The file is written to a temporary name and renamed, so a crash
-- never leaves half a file; a load checks every name and size before it
-- copies anything, so a failed load leaves the model untouched.
-- @module cnn.checkpoint

return function(cnn)
  local core = cnn.core

  -- Non-trainable tensors in layer order (BatchNorm running statistics).
  local function nontrainable(model)
    local list = {}
    local function go(l)
      if type(l) ~= "table" or type(l.children) ~= "function" then return end
      if l.nontrainable then
        for _, t in ipairs(l:nontrainable()) do list[#list + 1] = t end
      end
      for _, child in ipairs(l:children()) do go(child) end
    end
    go(model)
    return list
  end

  local function state(model)
    local list = cnn.params(model)
    for _, t in ipairs(nontrainable(model)) do list[#list + 1] = t end
    return list
  end

  local function name(i) return "state." .. i end

  local shape = require("cnn.tensorcheck").shape

  --- Writes the state of `model` to `path` (a .safetensors file).
  -- @usage cnn.savemodel("mnist.safetensors", model)
  local function savemodel(path, model)
    if type(path) ~= "string" then error("savemodel: path must be a string", 2) end
    local tensors = {}
    for i, t in ipairs(state(model)) do tensors[name(i)] = t end
    core.save_safetensors(path, tensors, {format = "cnnlua model state", model = tostring(model)})
  end

  --- Reads a state written by `savemodel` into `model`, which must have the
  -- same architecture. Returns the model.
  -- @usage local model = cnn.loadmodel("mnist.safetensors", build_model())
  local function loadmodel(path, model)
    if type(path) ~= "string" then error("loadmodel: path must be a string", 2) end
    local ok, tensors = pcall(core.load_safetensors, path)
    if not ok then error(tensors, 2) end
    local targets = state(model)
    local count = 0
    for _ in pairs(tensors) do count = count + 1 end
    if count ~= #targets then
      error(("loadmodel: %s holds %d tensors, the model has %d"):format(path, count, #targets), 2)
    end
    for i, t in ipairs(targets) do
      local saved = tensors[name(i)]
      if not saved then error(("loadmodel: %s has no tensor %s"):format(path, name(i)), 2) end
      if shape(saved) ~= shape(t) then
        error(("loadmodel: tensor %d is %s in the model but %s in %s"):format(
          i, shape(t), shape(saved), path), 2)
      end
    end
    for i, t in ipairs(targets) do t:copy(tensors[name(i)]) end
    return model
  end

  return {savemodel = savemodel, loadmodel = loadmodel}
end
