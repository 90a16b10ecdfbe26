print("isms")
