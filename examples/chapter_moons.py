"""The chapter's moons network, trained with backprop: prints train and test accuracy."""

import numpy as np
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import backprop as bp

X, y = make_moons(n_samples=1000, noise=0.2, random_state=42)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

model = bp.MLP([2, 10, 10, 1], activation="relu", output_activation="sigmoid", seed=42)
model.fit(X_train, y_train, loss="binary_crossentropy", optimizer=bp.Adam(lr=0.01),
          epochs=200, batch_size=32, verbose=1)
train_acc = np.mean(model.predict_classes(X_train) == y_train)
test_acc = np.mean(model.predict_classes(X_test) == y_test)
print(f"moons [2, 10, 10, 1]: train accuracy {train_acc:.2%}, test accuracy {test_acc:.2%}")
