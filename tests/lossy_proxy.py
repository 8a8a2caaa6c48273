"""A TCP proxy in front of a real server that can lose answers: the request reaches the server
(and takes effect there), but its answer never reaches the client, whose connection is closed."""

import socket
import threading

from tests.dynamodb_local import free_port


class LossyProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.answers_to_lose = 0
        self.answers_lost = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._sockets: list[socket.socket] = [self._listener]

    def start(self) -> "LossyProxy":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        for sock in self._sockets:
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, answers: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if answers and self._lose_this_answer():
                    break
                target.sendall(chunk)
        except OSError:
            pass
        for sock in (source, target):
            sock.close()

    def _lose_this_answer(self) -> bool:
        with self._lock:
            if self.answers_to_lose <= 0:
                return False
            self.answers_to_lose -= 1
            self.answers_lost += 1
            return True
