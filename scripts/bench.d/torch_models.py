"""The benchmark's models in PyTorch, each beside its cnnlua twin in
scripts/bench.d/cnnlua_models.lua: Glorot-uniform weights and zero biases
as Flux initialises them, BatchNorm with Flux's momentum 0.1 and eps 1e-5.
Each builder returns (model, loss, target), target "labels" or "images".
"""
import torch
import torch.nn as nn


def crossentropy(yhat, y):
    eps = torch.finfo(torch.float32).eps
    return -(y * torch.log(yhat + eps)).sum(dim=1).mean()


def logitcrossentropy(yhat, y):
    return -(y * torch.log_softmax(yhat, dim=1)).sum(dim=1).mean()


def mse(yhat, y):
    return ((yhat - y) ** 2).mean()


def glorot(model):
    for layer in model.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    return model


def notebook():
    m = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(288, 10), nn.Softmax(dim=1),
    )
    return glorot(m), crossentropy, "labels"


class Residual(nn.Module):
    """conv-BN-relu-conv-BN plus the input, then relu."""

    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
            nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c),
        )

    def forward(self, x):
        return torch.relu(self.body(x) + x)


def resnet():
    m = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        Residual(32), Residual(32),
        nn.MaxPool2d(2),
        Residual(32),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10),
    )
    return glorot(m), logitcrossentropy, "labels"


def lenet():
    m = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10),
    )
    return glorot(m), logitcrossentropy, "labels"


def mlp():
    m = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))
    return glorot(m), logitcrossentropy, "labels"


def autoencoder():
    # 28 -> 14 -> 7 and back: (7 - 1) * 2 - 2 * 1 + 4 = 14, no output padding
    m = nn.Sequential(
        nn.Conv2d(1, 16, 4, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 4, stride=2, padding=1), nn.ReLU(),
        nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1), nn.ReLU(),
        nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1), nn.Sigmoid(),
    )
    return glorot(m), mse, "images"


MODELS = {"notebook": notebook, "resnet": resnet, "lenet": lenet, "mlp": mlp, "autoencoder": autoencoder}
