FROM ubuntu:latest
RUN apt-get update
RUN apt-get install curl git
RUN curl -fsSL https://get.docker.com | sh
RUN wget -qO- https://raw.githubusercontent.com/nvm-sh/nvm/v0.39.7/install.sh | bash
RUN bash -c "$(curl -fsSL https://raw.githubusercontent.com/ohmyzsh/ohmyzsh/master/tools/install.sh)"
RUN sudo apt install -y vim
USER root
