--- Callbacks for cnn.train: EarlyStopping and Checkpointer, each in its
-- own file under cnn/callbacks/.
-- @module cnn.callbacks

return {
  EarlyStopping = require "cnn.callbacks.early_stopping",
  Checkpointer = require "cnn.callbacks.checkpointer",
}
