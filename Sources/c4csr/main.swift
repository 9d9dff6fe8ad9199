print("c4csr")
